"""The session keys depend on every element the protocol binds: mode, both identities, the key_ID, both
sides' offers and policies (through the offer and selection hashes), the previous session, the transcript
and each secret. Real ``pqc`` combiner, no stand-ins."""

from __future__ import annotations

import json
import secrets

from gateway.handshake import _schedule

BASE = {
    "mode": "hybrid-qkd",
    "xwing_ss": bytes(range(32)),
    "qkd": bytearray(b"\x11" * 32),
    "psk": None,
    "th": b"\x22" * 32,
    "initiator": "site-a",
    "responder": "site-b",
    "key_id": "6f1c2a9e-0000-4000-8000-000000000001",
    "offer": json.dumps({"modes": ["hybrid-qkd", "pqc-only"], "policy": {"qkd": "preferred",
                                                                         "min_mode": "pqc-only"}}).encode(),
    "selection": json.dumps({"mode": "hybrid-qkd", "policy": {"qkd": "preferred",
                                                               "min_mode": "pqc-only"}}).encode(),
    "rekey_of": b"",
}

VARIANTS = {
    "pqc-only mode (no QKD input)": {"mode": "pqc-only", "qkd": None, "key_id": None},
    "pqc-only label with the same inputs minus QKD": {"mode": "pqc-only", "qkd": None},
    "other X-Wing secret": {"xwing_ss": bytes(range(1, 33))},
    "other QKD key": {"qkd": bytearray(b"\x12" * 32)},
    "a PSK added": {"psk": bytearray(b"\x33" * 32)},
    "other transcript": {"th": b"\x23" * 32},
    "initiator identity": {"initiator": "site-c"},
    "responder identity": {"responder": "site-c"},
    "swapped identities": {"initiator": "site-b", "responder": "site-a"},
    "other key_ID": {"key_id": "6f1c2a9e-0000-4000-8000-000000000002"},
    "initiator policy in the offer": {"offer": BASE["offer"].replace(b'"preferred"', b'"required"')},
    "offered modes": {"offer": BASE["offer"].replace(b'["hybrid-qkd", "pqc-only"]', b'["hybrid-qkd"]')},
    "responder policy in the selection": {"selection": BASE["selection"].replace(b'"preferred"', b'"required"')},
    "rekey of a previous session": {"rekey_of": secrets.token_bytes(32)},
}


def test_every_bound_element_changes_the_session_keys():
    base = bytes(_schedule(**BASE))
    assert len(base) == 152
    outputs = {"base": base}
    for name, change in VARIANTS.items():
        out = bytes(_schedule(**{**BASE, **change}))
        assert out != base, name
        # no 32-byte key of the variant equals any key of the base
        for i in (0, 32, 88, 120):
            assert out[i:i + 32] not in base, (name, i)
        outputs[name] = out
    assert len(set(outputs.values())) == len(outputs)


def test_the_schedule_is_deterministic_so_both_sides_agree():
    assert bytes(_schedule(**BASE)) == bytes(_schedule(**dict(BASE, qkd=bytearray(BASE["qkd"]))))
