"""ML-KEM-768/1024 against the C2SP/CCTV vectors in ``../shared/vectors/ml-kem`` (FIPS 203)."""

from __future__ import annotations

import hashlib

import pytest
from kyber_py.ml_kem import ML_KEM_768, ML_KEM_1024

from pqc.errors import InvalidCiphertextError, InvalidKeyError
from pqc.mlkem import (
    MLKEM768PrivateKey,
    MLKEM768PublicKey,
    MLKEM1024PrivateKey,
    MLKEM1024PublicKey,
    check_encapsulation_key,
)
from tests.pqc.vectors import VECTORS, cctv_records, modulus_keys, needs_vectors

pytestmark = needs_vectors

VARIANTS = {
    "768": (MLKEM768PrivateKey, MLKEM768PublicKey, ML_KEM_768, 3),
    "1024": (MLKEM1024PrivateKey, MLKEM1024PublicKey, ML_KEM_1024, 4),
}


def _h(value: str) -> bytes:
    return bytes.fromhex(value)


def _final_fips203_or_skip(record: dict[str, str], path: str) -> None:
    """Skip (with the reason) when a CCTV file targets FIPS 203 *ipd*, not the final standard.

    The ipd derives (ρ, σ) = G(d) (final: G(d ‖ k), FIPS 203 Alg. 13 line 1) and K from KBar (final:
    Alg. 17 without the KDF), so a final implementation cannot reproduce those files. We detect the
    revision from the data: ipd files have ρ = SHA3-512(d)[0:32] (and a KBar entry).
    """
    d = _h(record["d"])
    rho = record.get("ρ") or _h(record["ek"])[-32:].hex()
    if hashlib.sha3_512(d).digest()[:32].hex() == rho:
        pytest.skip(
            f"{path} targets FIPS 203 ipd (ρ = SHA3-512(d), no k domain separator): not reproducible by a "
            "final-FIPS-203 implementation; replace it with the final CCTV file. ML-KEM-768 final KATs are "
            "covered by the X-Wing vectors (tests/pqc/test_vectors_xwing.py)"
        )


@pytest.mark.parametrize("variant", VARIANTS)
def test_keygen_from_d_z_and_decaps_reproduce_intermediate_vectors(variant: str) -> None:
    private_cls, _, _, _ = VARIANTS[variant]
    (record,) = cctv_records(VECTORS / "ml-kem" / "intermediate" / f"ML-KEM-{variant}.txt")
    _final_fips203_or_skip(record, f"ml-kem/intermediate/ML-KEM-{variant}.txt")
    private = private_cls.from_seed_bytes(_h(record["d"]) + _h(record["z"]))
    assert private.public_key().public_bytes_raw() == _h(record["ek"])
    assert private.decapsulate(_h(record["c"])) == _h(record["K"])
    # the expanded dk of the vector is what FIPS 203 Alg. 16 builds from (d, z): check our PKCS#8 'both'
    # consistency checks accept it (embedded ek, H(ek), z)
    dk = _h(record["dk"])
    k = VARIANTS[variant][3]
    assert dk[384 * k : 384 * k + len(_h(record["ek"]))] == _h(record["ek"])
    assert dk[-32:] == _h(record["z"])


@pytest.mark.parametrize("variant", VARIANTS)
def test_encaps_with_m_of_intermediate_vector_matches_and_our_decaps_agrees(variant: str) -> None:
    """Encaps with the vector's m (kyber-py, which takes m) gives (K, c); our Decaps of that c gives K."""
    private_cls, public_cls, reference, _ = VARIANTS[variant]
    (record,) = cctv_records(VECTORS / "ml-kem" / "intermediate" / f"ML-KEM-{variant}.txt")
    _final_fips203_or_skip(record, f"ml-kem/intermediate/ML-KEM-{variant}.txt")
    shared, ciphertext = reference._encaps_internal(_h(record["ek"]), _h(record["m"]))
    assert (shared, ciphertext) == (_h(record["K"]), _h(record["c"]))
    public_cls.from_public_bytes(_h(record["ek"]))  # valid key passes the modulus check
    private = private_cls.from_seed_bytes(_h(record["d"]) + _h(record["z"]))
    assert private.decapsulate(ciphertext) == shared


def test_ipd_detection_recognises_the_revision_of_the_shared_files() -> None:
    """Pins the reason of the skips above: the shared intermediate file is ipd-shaped (KBar present,
    ρ‖σ = SHA3-512(d)), and our final-FIPS-203 key from the same (d, z) differs from its ek."""
    (record,) = cctv_records(VECTORS / "ml-kem" / "intermediate" / "ML-KEM-768.txt")
    if hashlib.sha3_512(_h(record["d"])).digest() != _h(record["ρ"]) + _h(record["σ"]):
        pytest.skip("intermediate file is not the ipd revision any more: the KAT tests above run instead")
    assert "KBar" in record
    ours = MLKEM768PrivateKey.from_seed_bytes(_h(record["d"]) + _h(record["z"])).public_key().public_bytes_raw()
    assert ours != _h(record["ek"])
    assert ours == ML_KEM_768._keygen_internal(_h(record["d"]), _h(record["z"]))[0]


@pytest.mark.parametrize("variant", VARIANTS)
def test_keygen_from_d_z_equals_the_reference_implementation(variant: str) -> None:
    """Final FIPS 203 KeyGen_internal(d, z): our ek equals kyber-py's for 20 seeds; decaps agree."""
    private_cls, _, reference, _ = VARIANTS[variant]
    for index in range(20):
        seed = hashlib.shake_256(b"qshift keygen " + bytes([index])).digest(64)
        ek, dk = reference._keygen_internal(seed[:32], seed[32:])
        private = private_cls.from_seed_bytes(seed)
        assert private.public_key().public_bytes_raw() == ek
        shared, ciphertext = reference.encaps(ek)
        assert private.decapsulate(ciphertext) == shared


@pytest.mark.parametrize("variant", VARIANTS)
def test_unlucky_sample_keys_derive_and_decapsulate(variant: str) -> None:
    private_cls, _, _, _ = VARIANTS[variant]
    records = cctv_records(VECTORS / "ml-kem" / "unluckysample" / f"ML-KEM-{variant}.txt")
    assert records
    for record in records:
        _final_fips203_or_skip(record, f"ml-kem/unluckysample/ML-KEM-{variant}.txt")
        private = private_cls.from_seed_bytes(_h(record["d"]) + _h(record["z"]))
        assert private.public_key().public_bytes_raw() == _h(record["ek"])
        assert private.decapsulate(_h(record["c"])) == _h(record["K"])


@pytest.mark.parametrize("variant", VARIANTS)
def test_strcmp_vectors_are_implicit_rejections_that_the_reference_reproduces(variant: str) -> None:
    """CCTV's strcmp vectors give only the *expanded* dk, which the OpenSSL backend cannot import (it
    takes the seed d‖z only). So: the reference implementation decapsulates each to its K, and K is the
    implicit-rejection key J(z‖c) = SHAKE256(z‖c, 32) (FIPS 203 Alg. 18 line 7). Our own backend is held
    to the same property by the next test."""
    _, _, reference, _ = VARIANTS[variant]
    records = cctv_records(VECTORS / "ml-kem" / "strcmp" / f"ML-KEM-{variant}.txt")
    assert records
    for record in records:
        dk, c, k = _h(record["dk"]), _h(record["c"]), _h(record["K"])
        assert reference.decaps(dk, c) == k
        assert hashlib.shake_256(dk[-32:] + c).digest(32) == k


@pytest.mark.parametrize("variant", VARIANTS)
def test_strcmp_property_tampering_after_a_zero_byte_gives_the_implicit_rejection_key(variant: str) -> None:
    """A ciphertext differing from a valid one only *after* a zero byte must decapsulate to J(z‖c')
    exactly, as a comparison that stops at the zero byte would instead accept it and return K."""
    private_cls, _, _, _ = VARIANTS[variant]
    seed = hashlib.sha3_512(b"qshift strcmp property " + variant.encode()).digest()
    private = private_cls.from_seed_bytes(seed)
    z = seed[32:]
    checked = 0
    for _ in range(20):
        shared, ciphertext = private.public_key().encapsulate()
        zero = ciphertext.find(b"\x00")
        if zero < 0 or zero + 1 >= len(ciphertext):
            continue
        for position in (zero + 1, len(ciphertext) - 1):
            tampered = bytearray(ciphertext)
            tampered[position] ^= 0x01
            result = private.decapsulate(bytes(tampered))
            assert result != shared
            assert result == hashlib.shake_256(z + bytes(tampered)).digest(32)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_modulus_vector_key_is_rejected_with_a_typed_error(variant: str) -> None:
    _, public_cls, _, k = VARIANTS[variant]
    keys = modulus_keys(variant)
    assert len(keys) > 100
    for ek in keys:
        with pytest.raises(InvalidKeyError, match=r"modulus check") as info:
            public_cls.from_public_bytes(ek)
        assert ek.hex()[:32] not in str(info.value)
        with pytest.raises(InvalidKeyError):
            check_encapsulation_key(ek, k, f"ML-KEM-{variant}")


@pytest.mark.parametrize("variant", VARIANTS)
def test_modulus_error_names_the_offending_coefficient(variant: str) -> None:
    _, public_cls, _, k = VARIANTS[variant]
    good = VARIANTS[variant][0].from_seed_bytes(bytes(64)).public_key().public_bytes_raw()
    bad = bytearray(good)
    # polynomial 1, coefficient 7 (odd): high 12 bits of bytes 384 + 10..11 -> set to 0xFFF = 4095
    offset = 384 + 3 * 3 + 1
    bad[offset] |= 0xF0
    bad[offset + 1] = 0xFF
    with pytest.raises(InvalidKeyError, match=r"coefficient 7 of polynomial 1 is 4095 >= q=3329"):
        public_cls.from_public_bytes(bytes(bad))


@pytest.mark.parametrize("variant", VARIANTS)
def test_wrong_sizes_are_typed_errors(variant: str) -> None:
    private_cls, public_cls, _, _ = VARIANTS[variant]
    with pytest.raises(InvalidKeyError, match="bytes, expected"):
        public_cls.from_public_bytes(bytes(100))
    with pytest.raises(InvalidKeyError, match=r"seed: 63 bytes, expected 64"):
        private_cls.from_seed_bytes(bytes(63))
    with pytest.raises(InvalidCiphertextError, match="ciphertext: 5 bytes"):
        private_cls.from_seed_bytes(bytes(64)).decapsulate(bytes(5))
