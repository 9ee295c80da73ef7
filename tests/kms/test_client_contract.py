"""The client contract the gateway codes against, exercised against a real KME over mutual TLS."""

from __future__ import annotations

import pytest

from qkd.errors import QkdError
from qkd.kms.client import DeliveredKey, KeyExhaustedError, KmeClient, KmeRefusedError, KmeUnavailableError, KmsError
from qkd.kms.errors import LinkAlarmError
from qkd.kms.testing import free_port


async def test_enc_keys_then_dec_keys_give_the_same_key_once(kme, pki):
    async with KmeClient(kme.url, pki.client_context("SAE_A")) as master, \
            KmeClient(kme.url, pki.client_context("SAE_B")) as slave:
        keys = await master.enc_keys("SAE_B", number=2, size_bits=256)
        assert len(keys) == 2 and all(isinstance(k, DeliveredKey) and len(k.key) == 32 for k in keys)
        got = await slave.dec_keys("SAE_A", [k.key_id for k in keys])
        assert [g.key_id for g in got] == [k.key_id for k in keys]
        assert [bytes(g.key) for g in got] == [bytes(k.key) for k in keys]
        with pytest.raises(KmeRefusedError) as exc:
            await slave.dec_keys("SAE_A", [keys[0].key_id])
        assert exc.value.status == 400


async def test_status_reports_counts_and_link_health(kme, pki):
    async with KmeClient(kme.url, pki.client_context("SAE_A")) as master:
        st = await master.status("SAE_B")
        assert st["stored_key_count"] == (1 << 16) // 256
        assert (st["status_extension"]["link_alarm"], st["status_extension"]["qber"]) == (False, None)
        kme.service.set_link_alarm("local", True, qber=0.12)
        st = await master.status("SAE_B")
        assert (st["status_extension"]["link_alarm"], st["status_extension"]["qber"]) == (True, 0.12)
        with pytest.raises(LinkAlarmError):
            await master.enc_keys("SAE_B")


async def test_delivered_key_repr_hides_material_and_wipe_zeroes_it():
    k = DeliveredKey("0b0e5a4e-4d7e-4f52-9a52-1d1f3a0c8a11", b"\xaa" * 32)
    assert "aa" not in repr(k).lower().replace("0b0e5a4e", "") and "redacted" in repr(k)
    k.wipe()
    assert k.key == bytearray(32)


async def test_exhausted_kme_raises_key_exhausted(kme, pki):
    async with KmeClient(kme.url, pki.client_context("SAE_A")) as master:
        with pytest.raises(KeyExhaustedError):
            await master.enc_keys("SAE_B", number=128, size_bits=8192)


async def test_unreachable_kme_raises_unavailable(pki):
    async with KmeClient(f"https://127.0.0.1:{free_port()}", pki.client_context("SAE_A"), timeout_s=2) as c:
        with pytest.raises(KmeUnavailableError) as unreachable:
            await c.status("SAE_B")
    assert unreachable.value.status is None and unreachable.value.reason is None   # nothing answered


def test_client_errors_share_the_qkd_base():
    for cls in (KeyExhaustedError, KmeRefusedError, KmeUnavailableError, LinkAlarmError):
        assert issubclass(cls, KmsError) and issubclass(cls, QkdError)
