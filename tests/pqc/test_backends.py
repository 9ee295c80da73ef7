"""The backend registry and the ``cryptography`` backend: every algorithm asked for by catalogue name,
with the same verbs, against ``cryptography`` called directly where an independent check exists. Errors
are caught as the ``pqc`` surface exports them."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import pqc
from pqc.backends import (
    aead,
    available_algorithms,
    available_for,
    get_backend,
    hash_algorithm,
    implementation,
    kdf,
    kem,
    key_agreement,
    mac,
    signature,
    statuses,
)
from pqc.catalogue import lookup

REQUIRED = [
    "ML-KEM-768", "ML-KEM-1024", "X25519", "ML-DSA-44", "ML-DSA-65", "ML-DSA-87", "Ed25519",
    "AES-256-GCM", "ChaCha20-Poly1305", "HKDF-SHA256", "HKDF-SHA384", "HKDF-SHA512", "HKDF-SHA3-256",
    "HMAC-SHA256", "HMAC-SHA384", "HMAC-SHA512", "HMAC-SHA3-256", "HMAC-SHA3-384", "HMAC-SHA3-512",
    "X-Wing", "X25519MLKEM768", "MLDSA65-Ed25519",
]
KEMS = ["ML-KEM-768", "ML-KEM-1024", "X-Wing", "X25519MLKEM768"]
SIGNATURES = ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87", "Ed25519", "MLDSA65-Ed25519"]


def test_cryptography_backend_is_available_and_offers_every_required_algorithm() -> None:
    status = get_backend("cryptography").status()
    assert status.available and "OpenSSL" in status.reason
    offered = available_algorithms()
    for name in REQUIRED:
        assert "cryptography" in offered[name], name
        assert available_for(name) == ["cryptography"]


@pytest.mark.parametrize("name", REQUIRED)
def test_implementation_names_its_catalogue_entry(name: str) -> None:
    found = implementation(name)
    assert found.algorithm == name and found.backend == "cryptography"
    entry = pqc.find(name)
    if entry is not None:  # the qshift constructions (composite, HKDF-SHA3) are not catalogue rows
        assert entry.name == name
        assert entry.primitive.value == found.primitive


def test_aliases_resolve_to_the_same_implementation() -> None:
    assert kem("MLKEM768") is kem("ML-KEM-768") is kem("id-alg-ml-kem-768")
    assert signature("id-ml-dsa-65") is signature("ML-DSA-65")
    assert mac("HmacSHA256") is mac("HMAC-SHA256")
    assert kdf("HKDF-SHA-256") is kdf("HKDF-SHA256")
    assert signature("mldsa65-ed25519") is signature("MLDSA65-Ed25519")


@pytest.mark.parametrize("name", KEMS)
def test_kem_round_trip_and_sizes_match_the_catalogue(name: str) -> None:
    algorithm = kem(name)
    private = algorithm.generate()
    public = algorithm.public_key_from_bytes(private.public_key().public_bytes_raw())
    shared, ciphertext = public.encapsulate()
    again = algorithm.private_key_from_bytes(private.private_bytes_raw())
    assert again.decapsulate(ciphertext) == private.decapsulate(ciphertext) == shared
    entry = lookup(name)
    assert len(public.public_bytes_raw()) == entry.public_key_bytes
    assert len(ciphertext) == entry.ciphertext_bytes
    assert len(shared) == entry.shared_secret_bytes


@pytest.mark.parametrize("name", SIGNATURES)
def test_signature_round_trip_and_forgery_refused(name: str) -> None:
    algorithm = signature(name)
    private = algorithm.private_key_from_bytes(algorithm.generate().private_bytes_raw())
    public = algorithm.public_key_from_bytes(private.public_key().public_bytes_raw())
    sig = private.sign(b"message")
    public.verify(sig, b"message")
    with pytest.raises(pqc.InvalidSignatureError):
        public.verify(sig, b"messagf")
    forged = bytearray(sig)
    forged[len(forged) // 2] ^= 1
    with pytest.raises(pqc.InvalidSignatureError):
        public.verify(bytes(forged), b"message")
    entry = pqc.find(name)
    if entry is not None:
        assert len(sig) == entry.signature_bytes
        assert len(public.public_bytes_raw()) == entry.public_key_bytes


def test_ed25519_signature_verifies_with_cryptography_directly() -> None:
    private = signature("Ed25519").generate()
    direct = ed25519.Ed25519PublicKey.from_public_bytes(private.public_key().public_bytes_raw())
    direct.verify(private.sign(b"x"), b"x")


def test_x25519_agreement_matches_cryptography_and_refuses_low_order_points() -> None:
    algorithm = key_agreement("X25519")
    ours = algorithm.generate()
    theirs = x25519.X25519PrivateKey.generate()
    shared = ours.exchange(algorithm.public_key_from_bytes(theirs.public_key().public_bytes_raw()))
    assert shared == theirs.exchange(x25519.X25519PublicKey.from_public_bytes(ours.public_key().public_bytes_raw()))
    with pytest.raises(pqc.InvalidKeyError, match="low-order"):
        ours.exchange(algorithm.public_key_from_bytes(bytes(32)))


@pytest.mark.parametrize(("name", "direct_cls"), [("AES-256-GCM", AESGCM), ("ChaCha20-Poly1305", ChaCha20Poly1305)])
def test_aead_equals_cryptography_and_tamper_is_a_typed_error(name: str, direct_cls: type) -> None:
    key, nonce = bytes(range(32)), bytes(12)
    cipher = aead(name).new(key)
    sealed = cipher.encrypt(nonce, b"plaintext", b"aad")
    assert sealed == direct_cls(key).encrypt(nonce, b"plaintext", b"aad")
    assert cipher.decrypt(nonce, sealed, b"aad") == b"plaintext"
    with pytest.raises(pqc.AuthenticationError):
        cipher.decrypt(nonce, sealed, b"aae")
    with pytest.raises(pqc.InvalidKeyError, match="key: 16 bytes, expected 32"):
        aead(name).new(bytes(16))


@pytest.mark.parametrize("hash_name", ["sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"])
def test_hmac_and_hash_equal_the_standard_library(hash_name: str) -> None:
    catalogue_hash = {"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512", "sha3_256": "SHA3-256",
                      "sha3_384": "SHA3-384", "sha3_512": "SHA3-512"}[hash_name]
    mac_name = "HMAC-" + catalogue_hash.replace("SHA-", "SHA")
    algorithm = mac(mac_name)
    tag = algorithm.compute(b"key", b"data")
    assert tag == hmac.new(b"key", b"data", hash_name).digest()
    algorithm.verify(b"key", b"data", tag)
    with pytest.raises(pqc.AuthenticationError):
        algorithm.verify(b"key", b"data", bytes(len(tag)))
    assert hash_algorithm(catalogue_hash).digest(b"abc") == hashlib.new(hash_name, b"abc").digest()


@pytest.mark.parametrize(("name", "hash_cls"), [("HKDF-SHA256", hashes.SHA256), ("HKDF-SHA3-256", hashes.SHA3_256),
                                                ("HKDF-SHA512", hashes.SHA512)])
def test_hkdf_equals_cryptography(name: str, hash_cls: type) -> None:
    out = kdf(name).derive(b"ikm", 42, salt=b"salt", info=b"info")
    assert out == HKDF(algorithm=hash_cls(), length=42, salt=b"salt", info=b"info").derive(b"ikm")
    with pytest.raises(pqc.PqcError, match="length"):
        kdf(name).derive(b"ikm", 255 * hash_cls.digest_size + 1)


def test_hkdf_sha256_rfc5869_test_case_1() -> None:
    """RFC 5869 Appendix A.1."""
    okm = kdf("HKDF-SHA256").derive(
        bytes.fromhex("0b" * 22), 42, salt=bytes.fromhex("000102030405060708090a0b0c"),
        info=bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_asking_for_the_wrong_primitive_or_an_unknown_name_is_a_typed_error() -> None:
    with pytest.raises(pqc.UnknownAlgorithmError, match="ML-DSA-65 is a signature, not a KEM"):
        kem("ML-DSA-65")
    with pytest.raises(pqc.UnknownAlgorithmError):
        kem("NoSuchKEM-1")
    with pytest.raises(pqc.UnknownAlgorithmError, match="backend 'nope'"):
        kem("ML-KEM-768", backend="nope")
    with pytest.raises(pqc.UnknownAlgorithmError, match="not implemented by backend 'cryptography'"):
        kem("ML-KEM-512", backend="cryptography")


def test_algorithms_only_liboqs_offers_report_the_reason_when_it_is_absent() -> None:
    status = get_backend("liboqs").status()
    if status.available:
        pytest.skip(f"liboqs is installed here ({status.reason})")
    with pytest.raises(pqc.BackendUnavailableError, match="liboqs: ") as info:
        kem("FrodoKEM-640-AES")
    assert status.reason in str(info.value)
    with pytest.raises(pqc.BackendUnavailableError, match="unavailable"):
        kem("ML-KEM-768", backend="liboqs")
    assert [s.name for s in statuses()] == ["cryptography", "liboqs"]


def test_reprs_hold_no_key_material() -> None:
    for name in KEMS + SIGNATURES:
        algorithm = implementation(name)
        private = algorithm.generate()  # type: ignore[union-attr]
        raw = private.private_bytes_raw()
        text = repr(private) + repr(private.public_key()) + repr(algorithm)
        assert raw.hex()[:16] not in text and "private key" in repr(private)
