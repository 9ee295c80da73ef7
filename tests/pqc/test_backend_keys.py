"""The shared behaviour of every key object that wraps a ``cryptography`` key (pqc.backends.cryptography_keys),
reached through the family interfaces."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

from pqc.backends.cryptography_keys import CryptographyPublicKey
from pqc.errors import InvalidKeyError
from pqc.key_interface import PrivateKeyInterface
from pqc.mlkem import MLKEM768PrivateKey, MLKEM1024PrivateKey
from pqc.signatures import Ed25519PrivateKey, MLDSA44PrivateKey, MLDSA65PrivateKey, MLDSA87PrivateKey
from pqc.x25519 import X25519PrivateKey

PRIVATE_CLASSES = [MLKEM768PrivateKey, MLKEM1024PrivateKey, MLDSA44PrivateKey, MLDSA65PrivateKey,
                   MLDSA87PrivateKey, Ed25519PrivateKey, X25519PrivateKey]


@pytest.mark.parametrize("cls", PRIVATE_CLASSES, ids=lambda c: c.algorithm)
def test_raw_round_trip_equality_and_redacted_repr(cls: type[PrivateKeyInterface]) -> None:
    private = cls.generate()
    raw = private.private_bytes_raw()
    assert len(raw) == cls.private_key_size
    again = cls.from_private_bytes(raw)
    public, public_again = private.public_key(), again.public_key()
    assert isinstance(public, CryptographyPublicKey)
    assert public == public_again and hash(public) == hash(public_again)
    assert public != cls.generate().public_key()
    encoded = public.public_bytes_raw()
    assert len(encoded) == public.public_key_size
    assert type(public).from_public_bytes(encoded) == public
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert serialization.load_der_public_key(der).public_bytes_raw() == encoded
    text = repr(private) + repr(public) + str(private)
    assert raw.hex()[:16] not in text and encoded.hex()[:16] not in text
    assert text.startswith(f"<{cls.algorithm} private key>")


@pytest.mark.parametrize("cls", PRIVATE_CLASSES, ids=lambda c: c.algorithm)
def test_wrong_lengths_are_typed_errors_naming_the_algorithm(cls: type[PrivateKeyInterface]) -> None:
    size = cls.private_key_size
    with pytest.raises(InvalidKeyError, match=rf"{cls.algorithm} .*: {size - 1} bytes, expected {size}"):
        cls.from_private_bytes(bytes(size - 1))
    public_cls = type(cls.generate().public_key())
    with pytest.raises(InvalidKeyError, match=rf"{cls.algorithm} .*: {public_cls.public_key_size + 1} bytes"):
        public_cls.from_public_bytes(bytes(public_cls.public_key_size + 1))
