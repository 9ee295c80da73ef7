"""The ML-DSA certificates and keys of lamps-wg/dilithium-certificates in ``../shared/vectors/ml-dsa-certs``
(RFC 9881): load, self-signatures, catalogue mapping by OID, private-key forms, malformed keys."""

from __future__ import annotations

import pytest
from cryptography import x509

from pqc.catalogue import by_oid, lookup
from pqc.errors import InvalidKeyError, InvalidSignatureError
from pqc.keys import read_private_key, read_public_key
from pqc.signatures import MLDSA44PublicKey, MLDSA65PublicKey, MLDSA87PublicKey
from tests.pqc.vectors import VECTORS, needs_vectors

pytestmark = needs_vectors
CERTS = VECTORS / "ml-dsa-certs"
LEVELS = {
    "44": ("2.16.840.1.101.3.4.3.17", MLDSA44PublicKey),
    "65": ("2.16.840.1.101.3.4.3.18", MLDSA65PublicKey),
    "87": ("2.16.840.1.101.3.4.3.19", MLDSA87PublicKey),
}


@pytest.mark.parametrize("level", LEVELS)
def test_certificate_loads_verifies_its_self_signature_and_maps_to_the_catalogue(level: str) -> None:
    oid, public_cls = LEVELS[level]
    cert = x509.load_pem_x509_certificate((CERTS / f"ML-DSA-{level}.crt").read_bytes())
    cert.verify_directly_issued_by(cert)
    assert cert.signature_algorithm_oid.dotted_string == oid
    entry = by_oid(oid)
    assert entry is not None and entry is lookup(f"ML-DSA-{level}")
    # our wrapper verifies the same self-signature (pure ML-DSA, empty context, RFC 9881 §3)
    public = public_cls.from_public_bytes(cert.public_key().public_bytes_raw())
    public.verify(cert.signature, cert.tbs_certificate_bytes)
    assert len(cert.signature) == public_cls.signature_size == entry.signature_bytes
    assert len(public.public_bytes_raw()) == public_cls.public_key_size == entry.public_key_bytes
    tampered = bytes([cert.tbs_certificate_bytes[0] ^ 1]) + cert.tbs_certificate_bytes[1:]
    with pytest.raises(InvalidSignatureError):
        public.verify(cert.signature, tampered)


@pytest.mark.parametrize("level", LEVELS)
def test_public_key_file_equals_the_certificate_key(level: str) -> None:
    cert = x509.load_pem_x509_certificate((CERTS / f"ML-DSA-{level}.crt").read_bytes())
    public = read_public_key(CERTS / f"ML-DSA-{level}.pub")
    assert public.algorithm == f"ML-DSA-{level}"
    assert public.public_bytes_raw() == cert.public_key().public_bytes_raw()


@pytest.mark.parametrize("form", ["seed", "both"])
@pytest.mark.parametrize("level", LEVELS)
def test_seed_and_both_private_keys_load_and_sign_for_the_certificate_key(level: str, form: str) -> None:
    cert = x509.load_pem_x509_certificate((CERTS / f"ML-DSA-{level}.crt").read_bytes())
    private = read_private_key(CERTS / f"ML-DSA-{level}-{form}.priv")
    assert private.algorithm == f"ML-DSA-{level}"
    assert private.public_key().public_bytes_raw() == cert.public_key().public_bytes_raw()
    signature = private.sign(b"qshift", context=b"ctx")
    read_public_key(CERTS / f"ML-DSA-{level}.pub").verify(signature, b"qshift", context=b"ctx")


@pytest.mark.parametrize("level", LEVELS)
def test_expanded_only_private_key_is_refused_with_a_typed_error(level: str) -> None:
    """The OpenSSL backend imports ML-DSA keys from the seed ξ only; expandedKey-only keys are refused."""
    with pytest.raises(InvalidKeyError, match=r"expandedKey-only form .* imports only the 32-byte seed"):
        read_private_key(CERTS / f"ML-DSA-{level}-expanded.priv")


def test_bad_private_key_1_both_form_whose_expanded_part_disagrees_with_the_seed_is_rejected() -> None:
    with pytest.raises(InvalidKeyError, match=r"bad-ML-DSA-44-1\.priv: ML-DSA-44 expanded key ρ .* does not match"):
        read_private_key(CERTS / "bad-ML-DSA-44-1.priv")


@pytest.mark.parametrize("name", ["bad-ML-DSA-44-2", "bad-ML-DSA-44-3"])
def test_bad_expanded_only_private_keys_are_rejected_with_a_typed_error(name: str) -> None:
    """bad-2 (tr corrupted, byte 64) and bad-3 (t0 corrupted, byte 896) are expandedKey-only keys: they are
    refused like every expanded-only key, before any use (detecting *their* fault would need the lattice
    key generation, which the backend does not expose)."""
    with pytest.raises(InvalidKeyError, match=name):
        read_private_key(CERTS / f"{name}.priv")


def test_every_bad_key_in_the_folder_is_rejected() -> None:
    bad = sorted(CERTS.glob("bad-*.priv"))
    assert len(bad) == 3
    for path in bad:
        with pytest.raises(InvalidKeyError) as info:
            read_private_key(path)
        assert path.name in str(info.value)
