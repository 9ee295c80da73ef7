"""No secret in logs, /status, /metrics or reprs: run with debug logging on every logger and search the
output for every session key, X-Wing secret, combiner output, QKD key and PSK in every common encoding."""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest

from gateway import handshake, primitives
from gateway.keysource import QkdKeySource
from qshift.logsetup import JsonLineFormatter, TextFormatter
from tests.gateway.harness import http_text, start_pair, transfer, wait_for


def _encodings(secret: bytes) -> list[str]:
    return [secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode(),
            base64.urlsafe_b64encode(secret).decode().rstrip("="), repr(secret)[2:-1], secret[:16].hex()]


@pytest.mark.parametrize("auth", ["signature", "psk"])
async def test_no_key_material_in_debug_logs_status_or_metrics(tmp_path, pki, kme, sha_target, caplog,
                                                               monkeypatch, auth):
    secrets: list[bytes] = []

    real_combine, real_encap, real_decap = primitives.combine, primitives.xwing_encapsulate, \
        primitives.xwing_decapsulate
    real_fetch, real_redeem = QkdKeySource.fetch, QkdKeySource.redeem

    def combine(*args, **kw):
        out = real_combine(*args, **kw)
        secrets.append(bytes(out))
        return out

    def encapsulate(pk):
        ss, ct = real_encap(pk)
        secrets.append(bytes(ss))
        return ss, ct

    def decapsulate(sk, ct):
        ss = real_decap(sk, ct)
        secrets.append(bytes(ss))
        return ss

    async def fetch(self, sae, *args):
        result = await real_fetch(self, sae, *args)
        if result.key is not None:
            secrets.append(bytes(result.key))
        return result

    async def redeem(self, sae, key_id, *args):
        result = await real_redeem(self, sae, key_id, *args)
        if result.key is not None:
            secrets.append(bytes(result.key))
        return result

    monkeypatch.setattr(handshake.primitives, "combine", combine)
    monkeypatch.setattr(handshake.primitives, "xwing_encapsulate", encapsulate)
    monkeypatch.setattr(handshake.primitives, "xwing_decapsulate", decapsulate)
    monkeypatch.setattr(QkdKeySource, "fetch", fetch)
    monkeypatch.setattr(QkdKeySource, "redeem", redeem)
    caplog.set_level(logging.DEBUG)

    pair = await start_pair(tmp_path, pki, kme.url, sha_target, auth=auth, rekey={"interval_s": 0.2})
    try:
        if auth == "psk":
            secrets.append(bytes(pair.a.service.ctx.peers["site-b"].psk))
        session = pair.session_a()
        results = await asyncio.gather(*[transfer(pair.fa, 300_000, 300_000, pause_s=0.8) for _ in range(4)])
        assert all(r.ok for r in results)
        await wait_for(lambda: session.rekeys >= 3, 10, "three rekeys")
        outputs = [await http_text(pair.a.mgmt_port, "/status"), await http_text(pair.b.mgmt_port, "/status"),
                   await http_text(pair.a.mgmt_port, "/metrics"), await http_text(pair.b.mgmt_port, "/metrics")]
        # reprs of everything that holds keys (what a traceback or a debugger print would show)
        for gw in (pair.a, pair.b):
            outputs.append(repr(gw.service.ctx))
            outputs += [repr(t) for t in gw.service.ctx.peers.values()]
            for s in gw.service.sessions.values():
                outputs += [repr(s), repr(s.keys), repr(s._send_epoch), *map(repr, s._recv_epochs.values()),
                            str(s.status())]
        assert any("SessionKeys(" in o for o in outputs)
    finally:
        await pair.stop()
    # Each combiner output holds both directions' keys and IVs and the confirmation keys.
    per_key = [s[i:i + 32] for s in secrets if len(s) == 152 for i in (0, 32, 88, 120)]
    all_secrets = secrets + per_key
    assert len([s for s in secrets if len(s) == 152]) >= 8 and len(all_secrets) > 40
    text = "\n".join(outputs)
    json_fmt, text_fmt = JsonLineFormatter(), TextFormatter()
    for record in caplog.records:
        text += "\n" + json_fmt.format(record) + "\n" + text_fmt.format(record)
    assert "gateway.keys_installed" in text and "gateway.rekey" in text  # the logs did cover the handshakes
    for secret in all_secrets:
        for form in _encodings(secret):
            assert form not in text, "key material found in logs/status/metrics"


async def test_xwing_secrets_seeds_and_combiner_outputs_are_erased_once_used(tmp_path, pki, kme, sha_target,
                                                                            monkeypatch):
    """Issue 15, finding 7: the X-Wing shared secrets, the ephemeral X-Wing seeds and the combiner outputs
    the handshakes held are erasable buffers, and all of them are zeros once the sessions (first
    handshake and rekeys) are up. The wrappers only keep a reference to what the real functions return."""
    held: dict[str, list] = {"ss": [], "xwing": [], "okm": []}
    real_combine, real_generate = primitives.combine, primitives.xwing_generate
    real_encap, real_decap = primitives.xwing_encapsulate, primitives.xwing_decapsulate

    def combine(*args, **kw):
        out = real_combine(*args, **kw)
        held["okm"].append(out)
        return out

    def generate():
        key = real_generate()
        held["xwing"].append(key)
        return key

    def encapsulate(pk):
        ss, ct = real_encap(pk)
        held["ss"].append(ss)
        return ss, ct

    def decapsulate(sk, ct):
        ss = real_decap(sk, ct)
        held["ss"].append(ss)
        return ss

    for name, fn in (("combine", combine), ("xwing_generate", generate), ("xwing_encapsulate", encapsulate),
                     ("xwing_decapsulate", decapsulate)):
        monkeypatch.setattr(handshake.primitives, name, fn)
    pair = await start_pair(tmp_path, pki, kme.url, sha_target, rekey={"interval_s": 0.3})
    try:
        session = pair.session_a()
        await wait_for(lambda: session.rekeys >= 2, 10, "two rekeys")
        assert (await transfer(pair.fa, 50_000, 50_000)).ok
    finally:
        await pair.stop()   # a rekey cut short by the shutdown must erase what it holds too
    # Per handshake: 2 shared secrets (one per side), 1 seed, 2-3 combiner outputs.
    assert len(held["ss"]) >= 6 and len(held["xwing"]) >= 3 and len(held["okm"]) >= 6
    for what in ("ss", "okm"):
        assert all(isinstance(b, bytearray) for b in held[what]), what
        assert all(not any(b) for b in held[what]), f"{what}: a used secret was not erased"
    assert all(k.private_bytes_raw() == bytes(32) for k in held["xwing"]), "an X-Wing seed was not erased"
