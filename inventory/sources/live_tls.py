"""Live TLS endpoints: which protocol versions, cipher suites and key-exchange groups a server accepts,
and its certificate chain, probed with our own ClientHellos over plain sockets.

Why our own probe: ``sslyze`` 6.x pins ``cryptography<47`` (this product needs ≥ 47 for ML-KEM/ML-DSA)
and does not probe the hybrid groups; Python's ``ssl`` is linked to the system OpenSSL (3.0 here), which
cannot offer them either. Each probe sends one ClientHello (RFC 8446 §4.1.2) offering a single group
with a *real* key share (X25519MLKEM768 = ML-KEM-768 encapsulation key ‖ X25519 share, 1,216 bytes;
SecP256r1MLKEM768 = P-256 point ‖ ML-KEM-768 key, per draft-ietf-tls-ecdhe-mlkem) or a single cipher
suite, and reads the ServerHello, HelloRetryRequest or alert. A group counts as accepted if the server
selects it in a ServerHello key_share or asks for it in a HelloRetryRequest.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x25519

from inventory.errors import EndpointError, MalformedInputError
from inventory.model import AssetType, Finding, Location, SourceResult
from inventory.sources.endpoints import connection, probe_each
from inventory.wire import tls as tlsw

#: Groups probed one by one (TLS supported-group code points, IANA registry).
PROBE_GROUPS: tuple[int, ...] = (0x11EC, 0x11EB, 0x11ED, 0x001D, 0x0017, 0x0018)
TLS13_SUITES: tuple[int, ...] = (0x1301, 0x1302, 0x1303)
_ALL_GROUPS_FOR_12 = [0x001D, 0x0017, 0x0018, 0x0019, 0x0100]


def _x25519_share() -> bytes:
    return x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()


def _ec_share(curve: ec.EllipticCurve) -> bytes:
    return ec.generate_private_key(curve).public_key().public_bytes(serialization.Encoding.X962,
                                                                    serialization.PublicFormat.UncompressedPoint)


def key_share(group: int) -> bytes:
    """A fresh, well-formed key share for ``group`` (real keys: servers validate them)."""
    if group == 0x001D:
        return _x25519_share()
    if group == 0x0017:
        return _ec_share(ec.SECP256R1())
    if group == 0x0018:
        return _ec_share(ec.SECP384R1())
    if group == 0x11EC:
        return mlkem.MLKEM768PrivateKey.generate().public_key().public_bytes_raw() + _x25519_share()
    if group == 0x11EB:
        return _ec_share(ec.SECP256R1()) + mlkem.MLKEM768PrivateKey.generate().public_key().public_bytes_raw()
    if group == 0x11ED:
        return _ec_share(ec.SECP384R1()) + mlkem.MLKEM1024PrivateKey.generate().public_key().public_bytes_raw()
    raise ValueError(f"no key-share generator for group 0x{group:04X}")


@dataclass(slots=True)
class ProbeAnswer:
    """What one ClientHello got back."""

    server_hello: tlsw.ServerHello | None
    certificates: list[bytes]
    alert: int | None


async def _exchange(host: str, port: int, hello: bytes, timeout: float, record_version: int = 0x0301,
                    want_certs: bool = False) -> ProbeAnswer:
    async with connection(host, port, timeout, f"tls://{host}:{port}") as (reader, writer):
        writer.write(tlsw.record(tlsw.CONTENT_HANDSHAKE, hello, record_version))
        await writer.drain()
        buf = b""
        answer = ProbeAnswer(None, [], None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(65536), remaining)
            except TimeoutError:
                break
            if not chunk:
                break
            buf += chunk
            if buf[:1] == b"\x15" and len(buf) >= 7:
                answer.alert = buf[6]
                return answer
            try:
                msgs, _ = tlsw.handshake_messages(buf, f"tls://{host}:{port}")
            except MalformedInputError:
                return answer
            for m in msgs:
                if m.msg_type == tlsw.HS_SERVER_HELLO and answer.server_hello is None:
                    answer.server_hello = tlsw.parse_server_hello(m.body, f"tls://{host}:{port} ServerHello")
                elif m.msg_type == tlsw.HS_CERTIFICATE:
                    answer.certificates = tlsw.parse_certificate_list(m.body, False, f"tls://{host}:{port}")
            sh = answer.server_hello
            if sh is not None and (not want_certs or sh.version == 0x0304 or answer.certificates
                                   or any(m.msg_type == 14 for m in msgs)):
                return answer
        return answer


def _tls12_suites() -> list[int]:
    from pqc.catalogue import all_algorithms

    return [c for a in all_algorithms() if a.family == "TLS-1.2" for c in a.tls_cipher_suites]


def _name(kind: str, code: int) -> str:
    from pqc.catalogue import by_tls_cipher_suite, by_tls_group

    alg = (by_tls_group if kind == "group" else by_tls_cipher_suite)(code)
    return alg.name if alg else f"TLS {kind} 0x{code:04X}"


async def probe(host: str, port: int, timeout: float = 5.0, concurrency: int = 8) -> SourceResult:
    """Probe one TLS endpoint. Raises :class:`EndpointError` if it cannot be reached at all."""
    endpoint = f"{host}:{port}"
    sem = asyncio.Semaphore(concurrency)
    sni = host if not host.replace(".", "").isdigit() and ":" not in host else None

    async def run(hello: bytes, **kw: object) -> ProbeAnswer | None:
        async with sem:
            try:
                return await _exchange(host, port, hello, timeout, **kw)  # type: ignore[arg-type]
            except MalformedInputError:
                return None

    # reachability first: one plain probe, so that a dead endpoint fails fast with one error
    first = await _exchange(host, port, tlsw.build_client_hello(list(TLS13_SUITES) + _tls12_suites(),
                                                                 [0x001D, 0x0017],
                                                                 {0x001D: key_share(0x001D)}, server_name=sni),
                            timeout)
    group_tasks = {g: run(tlsw.build_client_hello(list(TLS13_SUITES), [g], {g: key_share(g)}, versions=(0x0304,),
                                                  server_name=sni)) for g in PROBE_GROUPS}
    suite13_tasks = {s: run(tlsw.build_client_hello([s], [0x001D], {0x001D: key_share(0x001D)}, versions=(0x0304,),
                                                    server_name=sni)) for s in TLS13_SUITES}
    suites12 = _tls12_suites()
    suite12_tasks = {s: run(tlsw.build_client_hello([s], _ALL_GROUPS_FOR_12, {}, versions=(), server_name=sni),
                            want_certs=True) for s in suites12}
    version_tasks = {v: run(_legacy_hello(v, suites12, sni)) for v in (0x0301, 0x0302, 0x0303)}
    keys = list(group_tasks) + list(suite13_tasks) + list(suite12_tasks) + list(version_tasks)
    answers = await asyncio.gather(*group_tasks.values(), *suite13_tasks.values(), *suite12_tasks.values(),
                                   *version_tasks.values(), return_exceptions=True)
    ng, n13, n12 = len(group_tasks), len(suite13_tasks), len(suite12_tasks)
    groups_ok, suites_ok, versions_ok = [], [], []
    certs: list[bytes] = []
    for i, (key, ans) in enumerate(zip(keys, answers, strict=True)):
        if not isinstance(ans, ProbeAnswer) or ans.server_hello is None:
            continue
        sh = ans.server_hello
        if i < ng:
            if (sh.retry and sh.key_share_group == key) or (sh.version == 0x0304 and sh.key_share_group == key):
                groups_ok.append(key)
        elif i < ng + n13:
            if sh.version == 0x0304 and sh.cipher_suite == key and not sh.retry:
                suites_ok.append(key)
        elif i < ng + n13 + n12:
            if sh.version == 0x0303 and sh.cipher_suite == key:
                suites_ok.append(key)
                if ans.certificates and not certs:
                    certs = ans.certificates
        else:
            if sh.version == key:
                versions_ok.append(tlsw.version_name(key))
    if groups_ok or any(s in TLS13_SUITES for s in suites_ok):
        versions_ok.append("TLSv1.3")
    result = SourceResult()
    result.stats.endpoints = 1
    loc = Location(f"tls://{endpoint}")
    related: list[str] = []
    for kind, accepted, usage in (("group", groups_ok, "key-exchange"), ("suite", suites_ok, "cipher-suite")):
        for code in accepted:
            name = _name(kind, code)
            related.append(name)
            result.findings.append(Finding(raw=name, asset_type=AssetType.ALGORITHM, source="tls", location=loc,
                                           confidence=1.0, usage=usage, network_facing=True,
                                           context=f"server accepts {kind} 0x{code:04X}", details={"code_point": code}))
    from inventory.sources.certs import certificate_findings

    chain = []
    for i, der in enumerate(certs):
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        found = certificate_findings(cert, loc, "TLS Certificate", "tls", True)
        found[0].details["chain_position"] = i
        chain.append(found[0].details["id"])
        related.append(found[0].details["id"])
        result.findings.extend(found)
    negotiated = first.server_hello
    details = {
        "id": f"tls://{endpoint}", "protocol": "tls", "endpoint": endpoint,
        "versions": sorted(set(versions_ok)),
        "cipher_suites": [_name("suite", s) for s in suites_ok],
        "groups": [_name("group", g) for g in groups_ok],
        "pq_groups": {_name("group", g): g in groups_ok for g in (0x11EC, 0x11EB, 0x11ED)},
        "certificate_chain": chain,
        "default_negotiation": ({"version": tlsw.version_name(negotiated.version),
                                 "cipher_suite": _name("suite", negotiated.cipher_suite),
                                 "group": _name("group", negotiated.key_share_group)
                                 if negotiated.key_share_group is not None else None}
                                if negotiated else None),
    }
    if not (groups_ok or suites_ok or versions_ok):
        raise EndpointError(f"tls://{endpoint}", "no TLS handshake succeeded (not a TLS server?)")
    result.findings.append(Finding(raw=f"TLS {endpoint}", asset_type=AssetType.PROTOCOL, source="tls", location=loc,
                                   confidence=1.0, network_facing=True, context="live TLS probe", details=details,
                                   related=related))
    return result


def _legacy_hello(version: int, suites: list[int], sni: str | None) -> bytes:
    """A ClientHello for a pre-1.3 ``version`` (legacy_version field, no supported_versions)."""
    hello = bytearray(tlsw.build_client_hello(suites + [0x002F, 0x0035, 0x000A], _ALL_GROUPS_FOR_12, {},
                                              versions=(), server_name=sni))
    struct.pack_into(">H", hello, 4, version)
    return bytes(hello)


async def probe_many(endpoints: list[tuple[str, int]], timeout: float = 5.0,
                     concurrency: int = 32) -> SourceResult:
    """Probe endpoints concurrently (each probe runs up to 8 handshakes of its own, so ``concurrency // 8``
    endpoints at once); an unreachable endpoint is reported as skipped with its reason."""
    return await probe_each(probe, endpoints, timeout, max(1, concurrency // 8))
