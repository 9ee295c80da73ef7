"""Fixtures: a test PKI, a real KME on loopback serving SAE_A and SAE_B (and one a test can kill), the
checking service."""

from __future__ import annotations

import pytest

from qkd.kms.pki import make_pki
from qkd.kms.server import start_kme
from qkd.kms.testing import single_node_config
from tests.gateway.harness import SAE_A, SAE_B, Kme, start_sha_service


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), kmes=["KME_A"], saes=[SAE_A, SAE_B, "admin"])


@pytest.fixture
async def kme(tmp_path, pki):
    running = await start_kme(single_node_config(tmp_path, pki, saes=[SAE_A, SAE_B],
                                                 prefill_bits=1 << 18))
    yield running
    await running.stop()


@pytest.fixture
async def kme_ctl(tmp_path, pki, request):
    """A KME the test can kill, empty and restart; its pools hold the test module's ``KME_PREFILL_BITS``."""
    ctl = Kme(tmp_path, pki, prefill_bits=getattr(request.module, "KME_PREFILL_BITS", 1 << 16))
    await ctl.start()
    yield ctl
    if ctl.running is not None:
        await ctl.kill()


@pytest.fixture
async def sha_target():
    server, target = await start_sha_service()
    yield target
    server.close()
