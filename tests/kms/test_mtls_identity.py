"""Mutual TLS: who may call what. The caller's identity is the subject CN of its client certificate."""

from __future__ import annotations

import ssl

import aiohttp
import pytest

from qkd.kms.client import KmeAdminClient, KmeClient, KmeRefusedError, KmeUnavailableError
from qkd.kms.pki import make_pki


@pytest.fixture(scope="module")
def foreign_pki(tmp_path_factory):
    """Another CA issuing a certificate with the same SAE ID as ours."""
    return make_pki(tmp_path_factory.mktemp("foreign"), kmes=[], saes=["SAE_A"], ca_cn="someone else's CA")


async def test_client_without_certificate_is_refused_in_the_handshake(kme, pki):
    ctx = pki.client_context(None)
    async with KmeClient(kme.url, ctx) as client:
        with pytest.raises(KmeUnavailableError):
            await client.status("SAE_B")


async def test_certificate_from_another_ca_is_refused(kme, pki, foreign_pki):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(pki.ca))  # trusts our server
    ctx.load_cert_chain(str(foreign_pki.cert("SAE_A")), str(foreign_pki.key("SAE_A")))
    before = kme.service.store.fingerprint()
    async with KmeClient(kme.url, ctx) as client:
        with pytest.raises(KmeUnavailableError):
            await client.enc_keys("SAE_B")
    assert kme.service.store.fingerprint() == before


async def test_sae_not_attached_to_this_kme_is_401(kme, pki):
    # "admin" is a valid certificate of our CA but not an SAE of the topology
    async with KmeClient(kme.url, pki.client_context("admin")) as client:
        with pytest.raises(KmeRefusedError) as exc:
            await client.enc_keys("SAE_B")
    assert exc.value.status == 401


async def test_kme_certificate_cannot_act_as_an_sae(kme, pki):
    async with KmeClient(kme.url, pki.client_context("KME_T")) as client:
        with pytest.raises(KmeRefusedError) as exc:
            await client.status("SAE_B")
    assert exc.value.status == 401


async def test_sae_cannot_redeem_a_key_id_issued_to_another_pair(kme, pki):
    async with KmeClient(kme.url, pki.client_context("SAE_A")) as a, \
            KmeClient(kme.url, pki.client_context("SAE_C")) as c, \
            KmeClient(kme.url, pki.client_context("SAE_B")) as b:
        [key] = await a.enc_keys("SAE_B")
        with pytest.raises(KmeRefusedError) as exc:
            await c.dec_keys("SAE_A", [key.key_id])  # SAE_C presents its own identity, not SAE_B's
        assert exc.value.status == 401
        [got] = await b.dec_keys("SAE_A", [key.key_id])
        assert got.key == key.key


async def test_sae_cannot_use_relay_or_admin_endpoints(kme, pki):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=pki.client_context("SAE_A"))) as s:
        async with s.post(f"{kme.url}/kme/v1/relay", json={}) as resp:
            assert resp.status == 401
    async with KmeAdminClient(kme.url, pki.client_context("SAE_A"), 5.0) as admin:
        with pytest.raises(KmeRefusedError):
            await admin.pools()
        with pytest.raises(KmeRefusedError):
            await admin.deposit("local", b"\x00" * 32)


async def test_admin_identity_can_deposit_and_set_alarm(kme, pki):
    async with KmeAdminClient(kme.url, pki.client_context("admin"), 5.0) as admin, \
            KmeClient(kme.url, pki.client_context("SAE_A")) as a:
        before = (await a.status("SAE_B"))["stored_key_count"]
        await admin.deposit("local", b"\x01" * 64)
        assert (await a.status("SAE_B"))["stored_key_count"] == before + 2
        await admin.set_link_alarm("local", True, 0.2)
        ext = (await a.status("SAE_B"))["status_extension"]
        assert (ext["link_alarm"], ext["qber"]) == (True, 0.2)
        report = await admin.pools()
        assert report["node"] == "KME_A" and report["pools"][0]["name"] == "local"
