"""No key material in logs, reprs or error messages: a full exchange (local pair, relay A-T-B, error cases)
with every logger at DEBUG, then every log record (message, ``extra`` fields, exception text) and every
repr/str of the objects that carry keys is searched for each delivered key in raw, hex and base64 form."""

from __future__ import annotations

import base64
import logging

import pytest

from qkd.kms.client import KmeClient, KmeRefusedError
from qkd.kms.ledger import IssuedKey
from qkd.kms.server import start_kme
from qkd.kms.testing import chain_node_config, chain_topology, free_port

NODES = ["KME_A", "KME_T", "KME_B"]


def forms(key: bytes) -> list[str]:
    return [key.hex(), key.hex().upper(), base64.b64encode(key).decode(), repr(key)[2:-1][:40]]


def record_text(rec: logging.LogRecord) -> str:
    parts = [rec.getMessage(), repr(rec.args), rec.exc_text or ""]
    if rec.exc_info:
        parts.append(logging.Formatter().formatException(rec.exc_info))
    parts += [f"{k}={v!r}" for k, v in vars(rec).items() if k not in ("msg", "args", "exc_info")]
    return "\n".join(parts)


async def test_an_exchange_with_relay_and_errors_logs_no_key_material(tmp_path, pki, caplog):
    caplog.set_level(logging.DEBUG)
    ports = {n: free_port() for n in NODES}
    topo = chain_topology(NODES, ports, {"SAE_A": "KME_A", "SAE_B": "KME_B", "SAE_C": "KME_A"})
    kmes = {n: await start_kme(chain_node_config(tmp_path / n, pki, n, topo, ports, prefill_bits=1 << 14))
            for n in NODES}
    keys = []
    errors = []
    try:
        async with KmeClient(kmes["KME_A"].url, pki.client_context("SAE_A")) as a, \
                KmeClient(kmes["KME_B"].url, pki.client_context("SAE_B")) as b, \
                KmeClient(kmes["KME_A"].url, pki.client_context("SAE_C")) as c:
            relayed = await a.enc_keys("SAE_B", number=2)
            keys += relayed + await b.dec_keys("SAE_A", [k.key_id for k in relayed])
            local = await a.enc_keys("SAE_C", number=2)
            keys += local + await c.dec_keys("SAE_A", [k.key_id for k in local])
            for call in (lambda: b.dec_keys("SAE_A", [relayed[0].key_id]),      # already delivered
                         lambda: c.dec_keys("SAE_A", [relayed[1].key_id])):     # not known at KME_A
                with pytest.raises(KmeRefusedError) as exc:
                    await call()
                errors.append(exc.value)
            kmes["KME_T"].service.set_link_alarm("KME_T-KME_B", True, 0.2)      # a failing relay logs
            with pytest.raises(Exception) as exc:
                await a.enc_keys("SAE_B")
            errors.append(exc.value)
    finally:
        for k in kmes.values():
            await k.stop()
    assert len(keys) == 8 and caplog.records
    texts = [record_text(r) for r in caplog.records]
    texts += [repr(k) + str(k) for k in keys] + [repr(e) + str(e) for e in errors]
    texts += [repr(IssuedKey(k.key_id, bytes(k.key))) for k in keys]
    for k in keys:
        for form in forms(bytes(k.key)):
            assert not any(form in t for t in texts), f"key material of {k.key_id} leaked"
