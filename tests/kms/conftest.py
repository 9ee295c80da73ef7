"""Fixtures: one PKI per test module (real X.509 certs), one real KME on a loopback port per test."""

from __future__ import annotations

import pytest

from qkd.kms.pki import make_pki
from qkd.kms.server import start_kme
from qkd.kms.testing import single_node_config

IDENTITIES_KME = ["KME_A", "KME_T", "KME_B"]
IDENTITIES_SAE = ["SAE_A", "SAE_B", "SAE_C", "admin"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), kmes=IDENTITIES_KME, saes=IDENTITIES_SAE)


@pytest.fixture
async def kme(tmp_path, pki):
    """KME_A serving SAE_A, SAE_B and SAE_C with 2^16 bits of synthetic local key."""
    running = await start_kme(single_node_config(tmp_path, pki, saes=["SAE_A", "SAE_B", "SAE_C"],
                                                 prefill_bits=1 << 16))
    yield running
    await running.stop()
