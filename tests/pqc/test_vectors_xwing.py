"""X-Wing (draft-connolly-cfrg-xwing-kem) against the official vectors in ``../shared/vectors/xwing``."""

from __future__ import annotations

import json

import pytest
from kyber_py.ml_kem import ML_KEM_768

from pqc.errors import InvalidCiphertextError, InvalidKeyError
from pqc.xwing import (
    CIPHERTEXT_SIZE,
    PUBLIC_KEY_SIZE,
    XWingPrivateKey,
    XWingPublicKey,
    combiner,
    encapsulate_derandomized,
)
from tests.pqc.vectors import VECTORS, needs_vectors

pytestmark = needs_vectors


def _vectors() -> list[dict[str, bytes]]:
    if not VECTORS.is_dir():
        return []
    raw = json.loads((VECTORS / "xwing" / "test-vectors.json").read_text())
    return [{key: bytes.fromhex(value) for key, value in entry.items()} for entry in raw]


VECTOR_LIST = _vectors()


def test_the_official_file_has_vectors() -> None:
    assert len(VECTOR_LIST) >= 3


@pytest.mark.parametrize("vector", VECTOR_LIST, ids=lambda v: v["seed"][:4].hex())
def test_keygen_from_seed_gives_official_sk_and_pk(vector: dict[str, bytes]) -> None:
    private = XWingPrivateKey.from_seed_bytes(vector["seed"])
    assert private.private_bytes_raw() == vector["sk"]
    assert private.public_key().public_bytes_raw() == vector["pk"]
    assert len(vector["pk"]) == PUBLIC_KEY_SIZE


@pytest.mark.parametrize("vector", VECTOR_LIST, ids=lambda v: v["seed"][:4].hex())
def test_decaps_of_official_ciphertext_gives_official_shared_secret(vector: dict[str, bytes]) -> None:
    private = XWingPrivateKey.from_seed_bytes(vector["sk"])
    assert len(vector["ct"]) == CIPHERTEXT_SIZE
    assert private.decapsulate(vector["ct"]) == vector["ss"]


@pytest.mark.parametrize("vector", VECTOR_LIST, ids=lambda v: v["seed"][:4].hex())
def test_derandomised_encaps_with_eseed_gives_official_ct_and_ss(vector: dict[str, bytes]) -> None:
    """Our X25519 + combiner with ML-KEM-768.Encaps_internal(pk_M, m) from kyber-py (which accepts m)."""
    public = XWingPublicKey.from_public_bytes(vector["pk"])
    shared, ciphertext = encapsulate_derandomized(public, vector["eseed"], ML_KEM_768._encaps_internal)
    assert ciphertext == vector["ct"]
    assert shared == vector["ss"]


def test_random_round_trip_and_ciphertext_tamper_changes_secret() -> None:
    private = XWingPrivateKey.generate()
    public = XWingPublicKey.from_public_bytes(private.public_key().public_bytes_raw())
    shared, ciphertext = public.encapsulate()
    assert private.decapsulate(ciphertext) == shared
    for position in (0, 1087, 1088, 1119):  # first/last byte of ct_M, first/last byte of ct_X
        tampered = bytearray(ciphertext)
        tampered[position] ^= 0x80
        assert private.decapsulate(bytes(tampered)) != shared


def test_low_order_x25519_share_is_not_an_error_and_feeds_zeros_into_the_combiner() -> None:
    private = XWingPrivateKey.from_seed_bytes(bytes(range(32)))
    shared, ciphertext = private.public_key().encapsulate()
    low_order = ciphertext[:1088] + bytes(32)  # u = 0: X25519 output is all zeros (RFC 7748 §6.1)
    result = private.decapsulate(low_order)
    ss_m = private._mlkem.decapsulate(ciphertext[:1088])
    pk_x = private.public_key().public_bytes_raw()[1184:]
    assert result == combiner(ss_m, bytes(32), bytes(32), pk_x)


def test_malformed_inputs_are_typed_errors() -> None:
    with pytest.raises(InvalidKeyError, match="X-Wing public key: 10 bytes, expected 1216"):
        XWingPublicKey.from_public_bytes(bytes(10))
    with pytest.raises(InvalidKeyError, match="X-Wing private key"):
        XWingPrivateKey.from_seed_bytes(bytes(31))
    with pytest.raises(InvalidCiphertextError, match="X-Wing ciphertext: 1119 bytes"):
        XWingPrivateKey.generate().decapsulate(bytes(1119))
    with pytest.raises(InvalidKeyError, match="eseed"):
        encapsulate_derandomized(XWingPrivateKey.generate().public_key(), bytes(63), ML_KEM_768._encaps_internal)


def test_public_key_with_out_of_range_mlkem_coefficient_is_rejected() -> None:
    raw = bytearray(XWingPrivateKey.generate().public_key().public_bytes_raw())
    raw[0] = 0xFF
    raw[1] |= 0x0F  # coefficient 0 of polynomial 0 = 4095
    with pytest.raises(InvalidKeyError, match="modulus check"):
        XWingPublicKey.from_public_bytes(bytes(raw))


def test_repr_holds_no_key_material() -> None:
    private = XWingPrivateKey.from_seed_bytes(bytes(range(32)))
    assert repr(private) == "<X-Wing private key>"
    assert bytes(range(32)).hex()[:8] not in repr(private) + repr(private.public_key())
