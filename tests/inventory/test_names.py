"""Variables, attributes and registration calls never become algorithm names."""

from __future__ import annotations

from inventory.normalise import normalise
from inventory.sources import python_ast

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
    found = python_ast.scan("g.py", GENERIC)
    assert [f.raw for f in found] == ["HMAC"]  # hmac.new with an unknown digest: HMAC, not "hmac_digest_name"
    assert [a.name for a in normalise(found)] == ["HMAC"]
