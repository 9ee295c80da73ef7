"""Cross-implementation checks: our ML-KEM-768 against kyber-py, our ML-DSA-65 against dilithium-py
(independent pure-Python FIPS 203 / FIPS 204 implementations)."""

from __future__ import annotations

import os

import pytest
from dilithium_py.ml_dsa import ML_DSA_65
from kyber_py.ml_kem import ML_KEM_768

from pqc.errors import InvalidSignatureError
from pqc.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from pqc.signatures import MLDSA65PrivateKey, MLDSA65PublicKey

ROUND_TRIPS = 200
# dilithium-py takes ~0.3-0.7 s per keygen+sign on this shared 2-core VM: 8 signatures each way keep it to a few s
SIGNATURES = 8


def test_200_mlkem768_round_trips_ours_encapsulate_kyber_py_decapsulates() -> None:
    for _ in range(ROUND_TRIPS):
        ek, dk = ML_KEM_768.keygen()
        shared, ciphertext = MLKEM768PublicKey.from_public_bytes(ek).encapsulate()
        assert ML_KEM_768.decaps(dk, ciphertext) == shared


def test_200_mlkem768_round_trips_kyber_py_encapsulates_ours_decapsulate() -> None:
    for _ in range(ROUND_TRIPS):
        private = MLKEM768PrivateKey.generate()
        shared, ciphertext = ML_KEM_768.encaps(private.public_key().public_bytes_raw())
        assert private.decapsulate(ciphertext) == shared


def test_mlkem768_forged_ciphertext_gives_the_same_rejection_key_in_both() -> None:
    seed = os.urandom(64)
    private = MLKEM768PrivateKey.from_seed_bytes(seed)
    _, dk = ML_KEM_768._keygen_internal(seed[:32], seed[32:])
    for _ in range(5):
        forged = os.urandom(1088)
        assert private.decapsulate(forged) == ML_KEM_768.decaps(dk, forged)


def test_mldsa65_our_signatures_verify_in_dilithium_py() -> None:
    for index in range(SIGNATURES):
        private = MLDSA65PrivateKey.generate()
        message = b"qshift cross-check %d" % index
        context = b"" if index % 2 else b"qshift-ctx"
        signature = private.sign(message, context=context)
        pk = private.public_key().public_bytes_raw()
        assert ML_DSA_65.verify(pk, message, signature, ctx=context)
        assert not ML_DSA_65.verify(pk, message + b"!", signature, ctx=context)


def test_mldsa65_dilithium_py_signatures_verify_in_ours() -> None:
    for index in range(SIGNATURES):
        pk, sk = ML_DSA_65.keygen()
        message = b"qshift cross-check %d" % index
        context = b"" if index % 2 else b"qshift-ctx"
        signature = ML_DSA_65.sign(sk, message, ctx=context)
        public = MLDSA65PublicKey.from_public_bytes(pk)
        public.verify(signature, message, context=context)
        with pytest.raises(InvalidSignatureError):
            public.verify(signature, message, context=context + b"x")


def test_mldsa65_same_seed_gives_the_same_public_key_in_both() -> None:
    for _ in range(3):
        seed = os.urandom(32)
        pk, _ = ML_DSA_65.key_derive(seed)
        assert MLDSA65PrivateKey.from_seed_bytes(seed).public_key().public_bytes_raw() == pk
