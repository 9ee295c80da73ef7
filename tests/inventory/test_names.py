"""Variables, attributes and registration calls never become algorithm names."""

from __future__ import annotations

from inventory.normalise import normalise
from inventory.rules import pyast

GENERIC = b"""import hmac
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher

class K:
    def f(self, key, msg, digest_name, algo, mode, seed, chosen_hash):
        a = hmac.new(key, msg, digest_name)
        b = hashes.Hash(self._algorithm)
        c = Cipher(algo(seed[:16]), mode(seed[16:]))
        hashes.HashContext.register(K)
        d = hashes.Hash(chosen_hash)
        return a, b, c, d
"""


def test_python_variables_are_not_algorithms() -> None:
    found = pyast.scan("g.py", GENERIC)
    assert [f.raw for f in found] == ["HMAC"]  # hmac.new with an unknown digest: HMAC, not "hmac_digest_name"
    assert [a.name for a in normalise(found)] == ["HMAC"]


def test_qshift_own_key_files_are_read_rated_and_one_asset_with_their_pub(tmp_path) -> None:  # noqa: ANN001
    from inventory.scan import ScanOptions, run_scan
    from pqc import keys

    keys.write_keypair(keys.XWingPrivateKey.generate(), tmp_path / "site.key")
    keys.write_keypair(keys.CompositeMLDSA65Ed25519PrivateKey.generate(), tmp_path / "sign.key")
    keys.write_keypair(keys.MLDSA65PrivateKey.generate(), tmp_path / "dsa.key")
    report = run_scan(ScanOptions(paths=[tmp_path], jobs=1))
    assert report.skipped == []
    material = {a.details.get("algorithm") or a.name: a for a in report.assets
                if a.asset_type.value == "related-crypto-material"}
    assert set(material) == {"X-Wing", "MLDSA65-Ed25519", "ML-DSA-65"}
    for a in material.values():
        assert sorted(o.location.uri.rsplit("/", 1)[-1] for o in a.occurrences)[1].endswith(".pub")
        assert len(a.occurrences) == 2
        assert report.assessments[a.key].status in ("hybrid", "quantum-safe")
