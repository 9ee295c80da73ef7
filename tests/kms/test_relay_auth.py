"""Relay messages between KMEs: only the previous hop may send, and a tampered pad is caught end to end
before anything is stored."""

from __future__ import annotations

import base64
import uuid

import aiohttp
import pytest

from qkd.kms.client import KmeClient
from qkd.kms.relay import check_value
from qkd.kms.server import start_kme
from qkd.kms.testing import chain_node_config, chain_topology, free_port

NODES = ["KME_A", "KME_T", "KME_B"]


@pytest.fixture
async def chain(tmp_path, pki):
    ports = {n: free_port() for n in NODES}
    topo = chain_topology(NODES, ports, {"SAE_A": "KME_A", "SAE_B": "KME_B"})
    kmes = {n: await start_kme(chain_node_config(tmp_path / n, pki, n, topo, ports, prefill_bits=1 << 14))
            for n in NODES}
    yield kmes
    for k in kmes.values():
        await k.stop()


def message(material: bytes, pad: bytes, pad_start: int, path: list[str], hop: int, link: str) -> dict:
    key_id, relay_id = str(uuid.uuid4()), str(uuid.uuid4())
    ct = bytes(a ^ b for a, b in zip(material, pad, strict=True))
    return {"relay_id": relay_id, "path": path, "hop": hop, "link": link, "pad_start": pad_start,
            "ct": base64.b64encode(ct).decode(), "keys": [{"key_ID": key_id, "size": len(material) * 8}],
            "master_SAE_ID": "SAE_A", "slave_SAE_ID": "SAE_B",
            "check": base64.b64encode(check_value(material, relay_id, [key_id])).decode()}


async def post(pki, identity, url, body):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=pki.client_context(identity))) as s:
        async with s.post(url + "/kme/v1/relay", json=body) as resp:
            return resp.status, await resp.json()


async def test_relay_message_from_a_node_that_is_not_the_previous_hop_is_401(chain, pki):
    b = chain["KME_B"]
    before = b.service.store.fingerprint()
    body = message(b"k" * 32, b"\x00" * 32, 0, NODES, 2, "KME_T-KME_B")
    status, answer = await post(pki, "KME_A", b.url, body)   # KME_A's certificate claims to be T's hop
    assert status == 401 and "previous hop" in answer["message"]
    assert b.service.store.fingerprint() == before


async def test_relay_with_a_tampered_pad_fails_the_end_to_end_check_and_stores_nothing(chain, pki):
    b, t = chain["KME_B"], chain["KME_T"]
    pool = "KME_T-KME_B:KME_T>KME_B"
    start, pad = t.service.store.take(pool, 32)              # the pad T would use
    material = bytes(range(32))
    body = message(material, pad, start, NODES, 2, "KME_T-KME_B")
    flipped = bytearray(base64.b64decode(body["ct"]))
    flipped[0] ^= 1
    body["ct"] = base64.b64encode(bytes(flipped)).decode()
    before = b.service.store.fingerprint()
    status, answer = await post(pki, "KME_T", b.url, body)
    assert status == 503 and "end-to-end check failed" in answer["message"]
    assert answer["details"][0]["failed_hop"] == "KME_T->KME_B"
    assert b.service.store.fingerprint() == before
    body = message(material, pad, start, NODES, 2, "KME_T-KME_B")   # the genuine message is accepted
    status, _ = await post(pki, "KME_T", b.url, body)
    assert status == 200
    async with KmeClient(b.url, pki.client_context("SAE_B")) as sae_b:
        [got] = await sae_b.dec_keys("SAE_A", [body["keys"][0]["key_ID"]])
    assert bytes(got.key) == material


async def test_sae_certificate_cannot_inject_relay_messages(chain, pki):
    status, _ = await post(pki, "SAE_A", chain["KME_B"].url, message(b"x" * 32, b"y" * 32, 0, NODES, 2,
                                                                     "KME_T-KME_B"))
    assert status == 401


def test_demo_step_runs_the_relay_chain():
    from qkd.kms.demo import relay_demo_step

    line = relay_demo_step()
    assert "equal at both SAEs" in line and "1024 bits of link key per hop" in line


async def test_relay_failures_downstream_map_to_the_client_error_kinds_and_name_the_hop(chain, pki):
    from qkd.kms.client import KeyExhaustedError, LinkAlarmError

    t = chain["KME_T"]
    async with KmeClient(chain["KME_A"].url, pki.client_context("SAE_A")) as a:
        t.service.set_link_alarm("KME_T-KME_B", True, 0.13)
        with pytest.raises(LinkAlarmError, match="KME_T->KME_B"):
            await a.enc_keys("SAE_B")
        t.service.set_link_alarm("KME_T-KME_B", False)
        pool = "KME_T-KME_B:KME_T>KME_B"
        t.service.store.take(pool, t.service.store.available_bits(pool) // 8 - 16)   # leave 128 bits at T
        with pytest.raises(KeyExhaustedError, match="KME_T->KME_B"):
            await a.enc_keys("SAE_B", size_bits=256)
        [key] = await a.enc_keys("SAE_B", size_bits=128)   # what is left still relays
    assert len(key.key) == 16


async def test_relay_hop_to_a_node_presenting_another_kmes_certificate_is_refused(tmp_path, pki):
    """KME_A's topology sends T's traffic to KME_B's address: B's certificate does not name KME_T."""
    from qkd.kms.client import KmeUnavailableError

    ports = {n: free_port() for n in NODES}
    topo = chain_topology(NODES, ports, {"SAE_A": "KME_A", "SAE_B": "KME_B"})
    wrong = chain_topology(NODES, dict(ports, KME_T=ports["KME_B"]), {"SAE_A": "KME_A", "SAE_B": "KME_B"})
    kmes = [await start_kme(chain_node_config(tmp_path / "KME_A", pki, "KME_A", wrong, ports, prefill_bits=1 << 14)),
            await start_kme(chain_node_config(tmp_path / "KME_B", pki, "KME_B", topo, ports, prefill_bits=1 << 14))]
    try:
        async with KmeClient(kmes[0].url, pki.client_context("SAE_A")) as a:
            with pytest.raises(KmeUnavailableError, match="certificate does not name it"):
                await a.enc_keys("SAE_B")
        assert kmes[1].service.store.fingerprint()[1] == ()   # B stored nothing
    finally:
        for k in kmes:
            await k.stop()


async def test_malformed_or_inconsistent_relay_messages_are_refused_and_store_nothing(chain, pki):
    b, t = chain["KME_B"], chain["KME_T"]
    pool = "KME_T-KME_B:KME_T>KME_B"
    start, pad = t.service.store.take(pool, 32)
    material = bytes(range(32))
    first = message(material, pad, start, NODES, 2, "KME_T-KME_B")
    assert (await post(pki, "KME_T", b.url, first))[0] == 200
    start, pad = t.service.store.take(pool, 32)
    reused = message(material, pad, start, NODES, 2, "KME_T-KME_B")
    reused["keys"][0]["key_ID"] = first["keys"][0]["key_ID"]      # a key_ID B already holds
    reused["check"] = base64.b64encode(check_value(material, reused["relay_id"],
                                                   [first["keys"][0]["key_ID"]])).decode()
    cases = [
        (reused, 503, "already exists"),
        (dict(message(material, pad, start, NODES, 2, "KME_T-KME_B"), master_SAE_ID="SAE_B"), 400,
         "not attached to the first node"),
        (dict(message(material, pad, start, NODES, 2, "KME_T-KME_B"),
              keys=[{"key_ID": "k1", "size": 256}]), 400, "not a UUID"),
        (dict(message(material, pad, start, NODES, 2, "KME_T-KME_B"),
              keys=[{"key_ID": str(uuid.uuid4()), "size": 252}, {"key_ID": str(uuid.uuid4()), "size": 4}]),
         400, "multiple of 8"),
        (dict(message(material, pad, start, NODES, 2, "KME_T-KME_B"), hop=1), 400, "not this node"),
        ({"path": NODES}, 400, "malformed"),
    ]
    for body, status, needle in cases:
        before = b.service.store.fingerprint()
        got, answer = await post(pki, "KME_T", b.url, body)
        assert (got, needle in answer["message"]) == (status, True), (needle, answer)
        assert b.service.store.fingerprint() == before
