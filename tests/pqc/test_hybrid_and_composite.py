"""X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem) against an independent construction, the MLDSA65-Ed25519
composite signature, and the PKCS#8 'both' private-key consistency checks (ML-KEM and ML-DSA)."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from dilithium_py.ml_dsa import ML_DSA_65
from kyber_py.ml_kem import ML_KEM_768

from pqc import _der
from pqc.errors import InvalidCiphertextError, InvalidKeyError, InvalidSignatureError
from pqc.hybrid import X25519MLKEM768PrivateKey, X25519MLKEM768PublicKey
from pqc.keys import load_private_key
from pqc.signatures import (
    CompositeMLDSA65Ed25519PrivateKey,
    CompositeMLDSA65Ed25519PublicKey,
    MLDSA65PublicKey,
)


def test_x25519mlkem768_decaps_of_an_independently_built_server_share() -> None:
    """Server share built with kyber-py + raw X25519: ct = ct_M ‖ X25519 share; ss = ss_M ‖ ss_X (ML-KEM first)."""
    client = X25519MLKEM768PrivateKey.generate()
    share = client.public_key().public_bytes_raw()
    ss_m, ct_m = ML_KEM_768.encaps(share[:1184])
    ephemeral = x25519.X25519PrivateKey.generate()
    ss_x = ephemeral.exchange(x25519.X25519PublicKey.from_public_bytes(share[1184:]))
    server_share = ct_m + ephemeral.public_key().public_bytes_raw()
    assert client.decapsulate(server_share) == ss_m + ss_x


def test_x25519mlkem768_encaps_is_decapsulated_by_an_independent_client() -> None:
    raw = os.urandom(96)  # d ‖ z ‖ X25519 scalar
    client = X25519MLKEM768PrivateKey.from_private_bytes(raw)
    _, dk = ML_KEM_768._keygen_internal(raw[:32], raw[32:64])
    shared, ciphertext = X25519MLKEM768PublicKey.from_public_bytes(client.public_key().public_bytes_raw()).encapsulate()
    assert len(shared) == 64 and len(ciphertext) == 1120
    x_client = x25519.X25519PrivateKey.from_private_bytes(raw[64:])
    ss_x = x_client.exchange(x25519.X25519PublicKey.from_public_bytes(ciphertext[1088:]))
    assert shared == ML_KEM_768.decaps(dk, ciphertext[:1088]) + ss_x
    assert client.private_bytes_raw() == raw


def test_x25519mlkem768_refuses_the_all_zero_x25519_secret_and_bad_sizes() -> None:
    client = X25519MLKEM768PrivateKey.generate()
    _, ciphertext = client.public_key().encapsulate()
    with pytest.raises(InvalidCiphertextError, match="all-zero"):
        client.decapsulate(ciphertext[:1088] + bytes(32))
    with pytest.raises(InvalidCiphertextError, match="1119 bytes"):
        client.decapsulate(ciphertext[:-1])
    with pytest.raises(InvalidKeyError, match="95 bytes"):
        X25519MLKEM768PrivateKey.from_private_bytes(bytes(95))


def test_composite_signs_and_verifies_with_context_and_binds_both_components() -> None:
    private = CompositeMLDSA65Ed25519PrivateKey.generate()
    public = CompositeMLDSA65Ed25519PublicKey.from_public_bytes(private.public_key().public_bytes_raw())
    signed = private.sign(b"transcript", b"ctx")
    assert len(signed) == public.signature_size == 3309 + 64
    public.verify(signed, b"transcript", b"ctx")
    with pytest.raises(InvalidSignatureError):
        public.verify(signed, b"transcript", b"ctx2")
    with pytest.raises(InvalidSignatureError):
        public.verify(signed, b"transcripT", b"ctx")
    # the ML-DSA component alone does not verify over the bare message (the prefix separates them)
    with pytest.raises(InvalidSignatureError):
        MLDSA65PublicKey.from_public_bytes(public.public_bytes_raw()[:1952]).verify(signed[:3309], b"transcript")


@pytest.mark.parametrize(("position", "names"), [(100, "ML-DSA-65"), (3309 + 10, "Ed25519")])
def test_composite_with_one_forged_component_fails_and_names_it(position: int, names: str) -> None:
    private = CompositeMLDSA65Ed25519PrivateKey.generate()
    signed = bytearray(private.sign(b"m"))
    signed[position] ^= 0x01
    with pytest.raises(InvalidSignatureError, match=f"component {names} fails"):
        private.public_key().verify(bytes(signed), b"m")


def test_composite_with_components_from_two_different_keys_fails() -> None:
    a, b = CompositeMLDSA65Ed25519PrivateKey.generate(), CompositeMLDSA65Ed25519PrivateKey.generate()
    mixed = a.sign(b"m")[:3309] + b.sign(b"m")[3309:]
    with pytest.raises(InvalidSignatureError, match="Ed25519"):
        a.public_key().verify(mixed, b"m")
    with pytest.raises(InvalidSignatureError, match="at most 255"):
        a.sign(b"m", bytes(256))


def _pkcs8(oid_der: bytes, private_key_choice: bytes) -> bytes:
    algorithm = _der.encode_tlv(0x30, oid_der)
    body = _der.encode_tlv(0x02, b"\x00") + algorithm + _der.encode_tlv(0x04, private_key_choice)
    return _der.encode_tlv(0x30, body)


MLKEM768_OID = bytes.fromhex("0609608648016503040402")
MLDSA65_OID = bytes.fromhex("0609608648016503040312")


def _both(seed: bytes, expanded: bytes) -> bytes:
    return _der.encode_tlv(0x30, _der.encode_tlv(0x04, seed) + _der.encode_tlv(0x04, expanded))


def test_mlkem_pkcs8_both_form_loads_when_consistent_and_each_fault_is_named() -> None:
    seed = os.urandom(64)
    _, dk = ML_KEM_768._keygen_internal(seed[:32], seed[32:])
    key = load_private_key(_pkcs8(MLKEM768_OID, _both(seed, dk)), "k.der")
    assert key.private_bytes_raw() == seed
    faults = {
        1152 + 5: "embedded ek",  # inside ek (dk = dk_PKE(1152) ‖ ek(1184) ‖ H(ek) ‖ z)
        1152 + 1184 + 3: "H\\(ek\\)",
        len(dk) - 1: "z does not match",
    }
    for position, message in faults.items():
        bad = bytearray(dk)
        bad[position] ^= 0x01
        with pytest.raises(InvalidKeyError, match=f"k.der: ML-KEM-768 expanded key: {message}"):
            load_private_key(_pkcs8(MLKEM768_OID, _both(seed, bytes(bad))), "k.der")
    with pytest.raises(InvalidKeyError, match="expanded key: 2399 bytes"):
        load_private_key(_pkcs8(MLKEM768_OID, _both(seed, dk[:-1])), "k.der")
    assert hashlib.sha3_256(dk[1152:1152 + 1184]).digest() == dk[1152 + 1184:1152 + 1184 + 32]


def test_mldsa_pkcs8_both_form_loads_when_consistent_and_each_checkable_fault_is_named() -> None:
    seed = os.urandom(32)
    pk, sk = ML_DSA_65.key_derive(seed)
    key = load_private_key(_pkcs8(MLDSA65_OID, _both(seed, sk)), "d.der")
    assert key.public_key().public_bytes_raw() == pk
    faults = {0: "ρ", 40: "K", 70: "tr", 128: "s1/s2 coefficient"}
    for position, message in faults.items():
        bad = bytearray(sk)
        bad[position] = 0xFF if position == 128 else bad[position] ^ 0x01
        with pytest.raises(InvalidKeyError, match=f"d.der: ML-DSA-65 expanded key {message}"):
            load_private_key(_pkcs8(MLDSA65_OID, _both(seed, bytes(bad))), "d.der")
    trailing = _both(seed, sk) + b"\x00"
    with pytest.raises(InvalidKeyError, match="trailing"):
        load_private_key(_pkcs8(MLDSA65_OID, trailing), "d.der")
