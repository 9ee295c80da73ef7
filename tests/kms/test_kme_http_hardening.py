"""Review findings 9 and 10 (issue 15): every refusal of the KME is an ETSI answer (400/401/503 with an Error
body), bodies are limited per endpoint, an unfinished request cannot hold a connection, and a refused
client certificate gets its TLS alert. Raw TLS sockets on loopback against a real KME."""

from __future__ import annotations

import asyncio
import json
import ssl
import time

import pytest

from qkd.kms.pki import make_pki
from qkd.kms.server import HttpLimits, start_kme
from qkd.kms.testing import single_node_config

KEY_ID = "00000000-0000-4000-8000-000000000000"


async def raw_exchange(kme, ctx: ssl.SSLContext, data: bytes, *, timeout_s: float = 10.0,
                       drip: list[tuple[float, bytes]] | None = None) -> tuple[int, dict, bytes, float]:
    """Send ``data`` (then each ``(delay, bytes)`` of ``drip``) on a fresh TLS connection; read until the server
    closes or one full response arrived. Returns (status, headers, body, seconds until the answer)."""
    t0 = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", kme.port, ssl=ctx, server_hostname="localhost")
    try:
        writer.write(data)
        await writer.drain()
        for delay, more in drip or []:
            await asyncio.sleep(delay)
            writer.write(more)
            await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout_s)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:] if ":" in x)}
        length = 0 if data.startswith(b"HEAD ") else int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), timeout_s)
        return status, headers, body, time.monotonic() - t0
    finally:
        writer.close()


def etsi_error(status: int, headers: dict, body: bytes) -> dict:
    assert status in (400, 401, 503), status
    assert headers["content-type"].startswith("application/json"), headers
    doc = json.loads(body)
    assert isinstance(doc["message"], str) and set(doc) <= {"message", "details"}
    return doc


def request(method: str, path: str, body: bytes = b"", extra: str = "") -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: kme\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


async def test_json_nested_a_thousand_deep_is_a_400_error_body_and_consumes_nothing(kme, pki):
    before = kme.service.store.fingerprint()
    for path, body in (("/api/v1/keys/SAE_B/enc_keys", b"[" * 1000 + b"]" * 1000),
                       ("/api/v1/keys/SAE_A/dec_keys", b'{"key_IDs": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
                       ("/api/v1/keys/SAE_B/enc_keys", b'{"number": ' + b"7" * 5000 + b"}")):  # int digit limit
        who = "SAE_B" if "dec_keys" in path else "SAE_A"
        status, headers, raw, _ = await raw_exchange(kme, pki.client_context(who), request("POST", path, body))
        doc = etsi_error(status, headers, raw)
        assert status == 400 and "malformed JSON" in doc["message"]
    assert kme.service.store.fingerprint() == before


async def test_body_larger_than_the_endpoint_needs_is_refused_with_400_before_it_is_read(kme, pki):
    before = kme.service.store.fingerprint()
    limit = kme.service.body_limits["dec_keys"]
    # declares 1 MiB, sends 64 KiB and waits: the KME answers from the declared length, without waiting
    head = (f"POST /api/v1/keys/SAE_A/dec_keys HTTP/1.1\r\nHost: kme\r\nContent-Type: application/json\r\n"
            f"Content-Length: {1 << 20}\r\n\r\n").encode()
    status, headers, raw, seconds = await raw_exchange(kme, pki.client_context("SAE_B"), head + b" " * (64 << 10),
                                                       timeout_s=5.0)
    doc = etsi_error(status, headers, raw)
    assert status == 400 and f"limit of {limit} bytes" in doc["message"] and seconds < 5
    # chunked (no declared length): refused once the limit is passed
    chunk = b" " * (limit + 10)
    body = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n"
    data = (b"POST /api/v1/keys/SAE_B/enc_keys HTTP/1.1\r\nHost: kme\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    status, headers, raw, _ = await raw_exchange(kme, pki.client_context("SAE_A"), data)
    assert status == 400 and "limit" in etsi_error(status, headers, raw)["message"]
    assert kme.service.store.fingerprint() == before


@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",                                                      # not HTTP
    b"GET /api/v1/keys/SAE_B/status HTTP/1.1\r\nHost: kme\r\nBad Header\r\n\r\n",   # header without colon
    b"GET /api/v1/keys/SAE_B/status HTTP/1.1\r\nHost: kme\r\nX: " + b"a" * 20000 + b"\r\n\r\n",  # field too long
    b"POST /api/v1/keys/SAE_B/enc_keys HTTP/1.1\r\nHost: kme\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    b"POST /api/v1/keys/SAE_B/enc_keys HTTP/1.1\r\nHost: kme\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
], ids=["not-http", "header-without-colon", "header-too-long", "two-lengths", "bad-chunk"])
async def test_http_framing_faults_are_answered_400_with_an_etsi_error_body(kme, pki, data):
    before = kme.service.store.fingerprint()
    status, headers, raw, _ = await raw_exchange(kme, pki.client_context("SAE_A"), data)
    assert status == 400
    etsi_error(status, headers, raw)
    assert kme.service.store.fingerprint() == before


async def test_head_on_the_key_routes_takes_no_key(kme, pki):
    before = kme.service.store.fingerprint()
    for who, path in (("SAE_A", "/api/v1/keys/SAE_B/enc_keys"),
                      ("SAE_B", f"/api/v1/keys/SAE_A/dec_keys?key_ID={KEY_ID}")):
        status, _, _, _ = await raw_exchange(kme, pki.client_context(who), request("HEAD", path))
        assert status == 405
    assert kme.service.store.fingerprint() == before


@pytest.fixture
async def strict_kme(tmp_path, pki):
    """A KME with short connection deadlines (1 s headers and body, 1 s TLS handshake)."""
    running = await start_kme(single_node_config(tmp_path, pki, saes=["SAE_A", "SAE_B"], prefill_bits=1 << 14),
                              http=HttpLimits(header_timeout_s=1.0, body_timeout_s=1.0, tls_handshake_timeout_s=1.0))
    yield running
    await running.stop()


async def test_unfinished_request_headers_are_answered_400_and_closed_at_the_header_deadline(strict_kme, pki):
    # a byte every 0.3 s keeps the connection busy but never finishes the head: the deadline runs from the first
    partial = b"GET /api/v1/keys/SAE_B/status HTTP/1.1\r\nHost: kme\r\n"
    status, headers, raw, seconds = await raw_exchange(strict_kme, pki.client_context("SAE_A"), partial,
                                                       drip=[(0.3, b"X")] * 3, timeout_s=10.0)
    doc = etsi_error(status, headers, raw)
    assert status == 400 and doc["details"][0]["reason"] == "header_timeout"
    assert 0.9 < seconds < 3.0
    assert strict_kme.service.metrics.http_timeouts["header"] == 1


async def test_an_unfinished_body_is_answered_400_at_the_body_deadline(strict_kme, pki):
    head = (b"POST /api/v1/keys/SAE_B/enc_keys HTTP/1.1\r\nHost: kme\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{\"number\":")
    before = strict_kme.service.store.fingerprint()
    status, headers, raw, seconds = await raw_exchange(strict_kme, pki.client_context("SAE_A"), head, timeout_s=10.0)
    assert status == 400 and "not received within" in etsi_error(status, headers, raw)["message"]
    assert 0.9 < seconds < 3.0
    assert strict_kme.service.store.fingerprint() == before


async def test_a_connection_that_never_starts_tls_is_closed_at_the_handshake_deadline(strict_kme):
    t0 = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", strict_kme.port)
    try:
        assert await asyncio.wait_for(reader.read(100), 10.0) == b""
    finally:
        writer.close()
    assert time.monotonic() - t0 < 3.0


async def test_the_kme_keeps_serving_after_its_deadlines_closed_connections(strict_kme, pki):
    await test_unfinished_request_headers_are_answered_400_and_closed_at_the_header_deadline(strict_kme, pki)
    status, _, body, _ = await raw_exchange(strict_kme, pki.client_context("SAE_A"),
                                            request("GET", "/api/v1/keys/SAE_B/status"))
    assert status == 200 and json.loads(body)["stored_key_count"] == (1 << 14) // 256


def _tls_outcome(port: int, ctx: ssl.SSLContext) -> str:
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET /api/v1/keys/SAE_B/status HTTP/1.1\r\nHost: kme\r\n\r\n")
                return f"read {tls.recv(100)!r}"
        except ssl.SSLError as exc:
            return exc.reason or str(exc)
        except OSError as exc:
            return f"{type(exc).__name__}"


async def test_a_refused_client_certificate_gets_a_tls_alert_not_a_bare_close(kme, pki, tmp_path):
    other = make_pki(tmp_path / "other-ca", kmes=[], saes=["SAE_A"])
    foreign = ssl.create_default_context(cafile=str(pki.ca))
    foreign.load_cert_chain(other.cert("SAE_A"), other.key("SAE_A"))
    foreign12 = ssl.create_default_context(cafile=str(pki.ca))
    foreign12.maximum_version = ssl.TLSVersion.TLSv1_2
    foreign12.load_cert_chain(other.cert("SAE_A"), other.key("SAE_A"))
    anonymous = ssl.create_default_context(cafile=str(pki.ca))
    outcomes = {name: await asyncio.to_thread(_tls_outcome, kme.port, ctx)
                for name, ctx in (("foreign", foreign), ("foreign-tls12", foreign12), ("no-cert", anonymous))}
    assert outcomes == {"foreign": "TLSV1_ALERT_UNKNOWN_CA", "foreign-tls12": "TLSV1_ALERT_UNKNOWN_CA",
                        "no-cert": "TLSV13_ALERT_CERTIFICATE_REQUIRED"}
    assert sum(kme.service.metrics.tls_failures.values()) == 3
