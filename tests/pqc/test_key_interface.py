"""The family interfaces in pyca's shape (pqc.key_interface): sizes come from the catalogue rows, the class
methods of an interface return the key objects of the backend the registry resolves, and the input checks
of the standards live in the families, whichever backend implements them."""

from __future__ import annotations

import pytest

from pqc.backends import key_algorithm
from pqc.backends.cryptography_keys import CryptographyPrivateKey, CryptographyPublicKey
from pqc.catalogue import lookup
from pqc.errors import InvalidKeyError
from pqc.hybrid import X25519MLKEM768PrivateKey, X25519MLKEM768PublicKey
from pqc.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey, MLKEM1024PrivateKey, MLKEM1024PublicKey
from pqc.signatures import (
    CompositeMLDSA65Ed25519PrivateKey,
    CompositeMLDSA65Ed25519PublicKey,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    MLDSA44PublicKey,
    MLDSA65PrivateKey,
    MLDSA87PublicKey,
)
from pqc.x25519 import X25519PrivateKey, X25519PublicKey
from pqc.xwing import XWingPrivateKey, XWingPublicKey

PUBLIC_CLASSES = [MLKEM768PublicKey, MLKEM1024PublicKey, MLDSA44PublicKey, MLDSA87PublicKey, Ed25519PublicKey,
                  X25519PublicKey, XWingPublicKey, X25519MLKEM768PublicKey, CompositeMLDSA65Ed25519PublicKey]
#: (catalogue field, class attribute), sizes in bytes
SIZES = [("public_key_bytes", "public_key_size"), ("ciphertext_bytes", "ciphertext_size"),
         ("signature_bytes", "signature_size"), ("shared_secret_bytes", "shared_secret_size")]


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda c: c.algorithm)
def test_every_size_a_class_carries_is_its_catalogue_rows(cls: type) -> None:
    entry = lookup(cls.algorithm)
    carried = [(field, getattr(cls, attribute)) for field, attribute in SIZES if hasattr(cls, attribute)]
    assert carried and all(size == getattr(entry, field) for field, size in carried), carried


def test_private_sizes_are_the_seed_forms_or_the_sum_of_the_parts() -> None:
    assert MLKEM768PrivateKey.private_key_size == MLKEM1024PrivateKey.private_key_size == 64   # FIPS 203 d‖z
    assert MLDSA65PrivateKey.private_key_size == 32                                           # FIPS 204 ξ
    assert XWingPrivateKey.private_key_size == lookup("X-Wing").private_key_bytes == 32
    assert X25519MLKEM768PrivateKey.private_key_size == 64 + lookup("X25519").private_key_bytes
    assert CompositeMLDSA65Ed25519PrivateKey.private_key_size == 32 + lookup("Ed25519").private_key_bytes


@pytest.mark.parametrize("interface", [MLKEM768PrivateKey, MLDSA65PrivateKey, Ed25519PrivateKey, X25519PrivateKey],
                         ids=lambda c: c.algorithm)
def test_an_interface_returns_the_registered_backends_keys(interface: type) -> None:
    key = interface.generate()
    implementation = key_algorithm(interface.algorithm)
    assert type(key) is implementation.private_cls and implementation.backend == "cryptography"
    assert isinstance(key, interface) and isinstance(key, CryptographyPrivateKey)
    again = interface.from_private_bytes(key.private_bytes_raw())
    assert type(again) is type(key) and again.public_key() == key.public_key()
    public = key.public_key()
    assert isinstance(public, CryptographyPublicKey)
    assert type(public).from_public_bytes(public.public_bytes_raw()) == public
    with pytest.raises(TypeError, match="abstract"):
        interface()   # only a backend makes key objects
    assert interface.__module__ in ("pqc.mlkem", "pqc.signatures", "pqc.x25519")
    assert interface.__name__ == interface.algorithm.replace("-", "") + "PrivateKey"


def test_x25519_refuses_the_all_zero_output_unless_the_caller_allows_it() -> None:
    ours = X25519PrivateKey.generate()
    low_order = X25519PublicKey.from_public_bytes(bytes(32))
    with pytest.raises(InvalidKeyError, match="low-order"):
        ours.exchange(low_order)
    assert ours.exchange(low_order, allow_zero=True) == bytes(32)   # X-Wing feeds it to its combiner as is
    peer = X25519PrivateKey.generate()
    assert ours.exchange(peer.public_key()) == peer.exchange(ours.public_key()) != bytes(32)


def test_public_keys_compare_by_algorithm_and_encoding_across_import_paths() -> None:
    key = MLKEM768PrivateKey.generate()
    raw = key.public_key().public_bytes_raw()
    assert MLKEM768PublicKey.from_public_bytes(raw) == key.public_key()
    assert hash(MLKEM768PublicKey.from_public_bytes(raw)) == hash(key.public_key())
    assert MLKEM768PublicKey.from_public_bytes(raw) != XWingPrivateKey.generate().public_key()
