"""Lookups by name, alias, OID and code point; duplicates are a build-time error."""

from __future__ import annotations

import dataclasses

import pytest

from pqc import PqcError
from pqc.catalogue import (
    ALGORITHMS,
    Algorithm,
    CatalogueIndex,
    DuplicateCatalogueEntryError,
    InvalidCatalogueEntryError,
    Primitive,
    QuantumStatus,
    UnknownAlgorithmError,
    all_algorithms,
    by_ike_group,
    by_oid,
    by_ssh_name,
    by_tls_cipher_suite,
    by_tls_group,
    by_tls_signature_scheme,
    find,
    lookup,
    lookup_sized,
)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("ml-kem-768", "ML-KEM-768"),
        ("MLKEM768", "ML-KEM-768"),
        ("ML_KEM_768", "ML-KEM-768"),
        ("SHA256withRSA", "RSASSA-PKCS1-v1_5-SHA256"),
        ("sha256WithRSAEncryption", "RSASSA-PKCS1-v1_5-SHA256"),
        ("AES/GCM/NoPadding", "AES-GCM"),
        ("AES_256/GCM/NoPadding", "AES-256-GCM"),
        ("aes-256-gcm", "AES-256-GCM"),
        ("id-aes128-GCM", "AES-128-GCM"),
        ("elliptic.P256", "ECDSA-P256"),
        ("prime256v1", "ECDSA-P256"),
        ("secp384r1", "ECDSA-P384"),
        ("ecdh.P256", "ECDH-P256"),
        ("tls.X25519MLKEM768", "X25519MLKEM768"),
        ("tls.TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
        ("ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        ("DESede", "3DES"),
        ("ARCFOUR", "RC4"),
        ("HmacSHA256", "HMAC-SHA256"),
        ("SHA-256", "SHA-256"),
        ("sha256", "SHA-256"),
        ("SHA", "SHA-1"),
        ("XWing", "X-Wing"),
        ("sntrup761x25519-sha512@openssh.com", "sntrup761x25519-sha512"),
        ("  Ed25519 ", "Ed25519"),
    ],
)
def test_aliases_resolve_case_insensitively_to_the_canonical_entry(alias: str, canonical: str) -> None:
    assert lookup(alias).name == canonical
    assert find(alias.upper()) is lookup(alias)


def test_unknown_name_raises_typed_error_naming_the_input() -> None:
    with pytest.raises(UnknownAlgorithmError, match="NOPE-9000") as info:
        lookup("NOPE-9000")
    assert isinstance(info.value, PqcError)
    assert info.value.query == "NOPE-9000"
    assert find("NOPE-9000") is None


@pytest.mark.parametrize(
    ("getter", "key", "canonical"),
    [
        (by_oid, "2.16.840.1.101.3.4.3.18", "ML-DSA-65"),
        (by_oid, "2.16.840.1.101.3.4.4.2", "ML-KEM-768"),
        (by_oid, "1.2.840.113549.1.1.1", "RSA"),
        (by_oid, "1.2.840.113549.1.1.11", "RSASSA-PKCS1-v1_5-SHA256"),
        (by_oid, "1.2.840.10045.3.1.7", "ECDSA-P256"),
        (by_oid, "1.3.6.1.4.1.62253.25722", "X-Wing"),
        (by_oid, "2.16.840.1.101.3.4.1.46", "AES-256-GCM"),
        (by_oid, "urn:oid:2.16.840.1.101.3.4.2.1", "SHA-256"),
        (by_tls_group, 0x11EC, "X25519MLKEM768"),
        (by_tls_group, 0x11EB, "SecP256r1MLKEM768"),
        (by_tls_group, 0x11ED, "SecP384r1MLKEM1024"),
        (by_tls_group, 0x001D, "X25519"),
        (by_tls_group, 0x0017, "ECDH-P256"),
        (by_tls_group, 0x0100, "ffdhe2048"),
        (by_tls_group, 0x0201, "ML-KEM-768"),
        (by_tls_cipher_suite, 0x1301, "TLS_AES_128_GCM_SHA256"),
        (by_tls_cipher_suite, 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        (by_tls_signature_scheme, 0x0905, "ML-DSA-65"),
        (by_tls_signature_scheme, 0x0807, "Ed25519"),
        (by_tls_signature_scheme, 0x0804, "RSASSA-PSS-SHA256"),
        (by_ssh_name, "mlkem768x25519-sha256", "mlkem768x25519-sha256"),
        (by_ssh_name, "sntrup761x25519-sha512@openssh.com", "sntrup761x25519-sha512"),
        (by_ssh_name, "curve25519-sha256", "X25519"),
        (by_ssh_name, "ssh-rsa", "RSASSA-PKCS1-v1_5-SHA1"),
        (by_ssh_name, "aes256-gcm@openssh.com", "AES-256-GCM"),
        (by_ike_group, 14, "MODP-2048"),
        (by_ike_group, 31, "X25519"),
    ],
)
def test_identifier_indices_return_the_right_entry(getter, key, canonical: str) -> None:
    hit = getter(key)
    assert hit is not None and hit.name == canonical


def test_identifier_indices_return_none_for_unknown_keys() -> None:
    assert by_oid("1.2.3.4.5") is None
    assert by_tls_group(0xFEFE) is None
    assert by_tls_cipher_suite(0xFFFF) is None
    assert by_tls_signature_scheme(0x0000) is None
    assert by_ssh_name("none") is None


@pytest.mark.parametrize(
    ("family", "bits", "canonical"),
    [
        ("RSA", 2048, "RSA-2048"),
        ("rsa", 4096, "RSA-4096"),
        ("DH", 2048, "ffdhe2048"),
        ("DH", 1536, "MODP-1536"),
        ("AES", 256, "AES-256"),
        ("EC", 384, "ECDSA-P384"),
        ("ECDH", 521, "ECDH-P521"),
        ("DSA", 2048, "DSA-2048"),
    ],
)
def test_lookup_sized_resolves_family_and_size(family: str, bits: int, canonical: str) -> None:
    assert lookup_sized(family, bits).name == canonical


def test_lookup_sized_computes_unlisted_rsa_sizes_with_sp800_56b_strength() -> None:
    odd = lookup_sized("RSA", 3000)
    assert odd.name == "RSA-3000" and odd.key_bits == 3000
    assert odd.classical_security_bits == 128  # SP 800-56B r2 App. D formula, rounded to 8
    assert odd.quantum_status is QuantumStatus.BROKEN_BY_SHOR and odd.quantum_security_bits == 0
    assert find("RSA-3000") is None  # computed, not added to the index
    assert lookup_sized("RSA", 700).quantum_status is QuantumStatus.CLASSICALLY_BROKEN


def test_lookup_sized_rejects_unknown_family_and_unlisted_fixed_sizes() -> None:
    with pytest.raises(UnknownAlgorithmError):
        lookup_sized("Serpent", 256)
    with pytest.raises(UnknownAlgorithmError):
        lookup_sized("AES", 512)
    with pytest.raises(UnknownAlgorithmError):
        lookup_sized("RSA", 0)


def _row(name: str, **kw) -> Algorithm:
    return Algorithm(name, "Test", Primitive.OTHER, QuantumStatus.QUANTUM_SAFE, 64, **kw)


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [
        ({"aliases": ("shared",)}, {"aliases": ("SHARED",)}, "name"),
        ({}, {"aliases": ("a",)}, "name"),
        ({"oids": ("1.2.3",)}, {"oids": ("1.2.3",)}, "OID"),
        ({"tls_groups": (7,)}, {"tls_groups": (7,)}, "TLS group"),
        ({"tls_cipher_suites": (7,)}, {"tls_cipher_suites": (7,)}, "TLS cipher suite"),
        ({"tls_signature_schemes": (7,)}, {"tls_signature_schemes": (7,)}, "TLS signature scheme"),
        ({"ssh_names": ("kex",)}, {"ssh_names": ("kex",)}, "SSH name"),
        ({"ike_groups": (7,)}, {"ike_groups": (7,)}, "IKE group"),
        ({"aliases": ("kex-x",)}, {"ssh_names": ("kex-x",)}, "name/SSH name"),
    ],
)
def test_duplicate_keys_across_entries_fail_the_build(first: dict, second: dict, kind: str) -> None:
    with pytest.raises(DuplicateCatalogueEntryError) as info:
        CatalogueIndex([_row("a", **first), _row("b", **second)])
    assert info.value.kind == kind
    assert {info.value.first, info.value.second} == {"a", "b"}


def test_same_alias_twice_in_one_entry_is_not_a_duplicate() -> None:
    index = CatalogueIndex([_row("X-Wing", aliases=("XWing", "xwing"))])
    assert index.lookup("XWING").name == "X-Wing"


def test_component_that_is_not_an_entry_fails_the_build() -> None:
    with pytest.raises(InvalidCatalogueEntryError, match="component"):
        CatalogueIndex([_row("hybrid", components=("missing",))])


def test_loose_match_never_overrides_an_exact_one_and_drops_ambiguous_keys() -> None:
    index = CatalogueIndex([_row("AB-1"), _row("ab1"), _row("C-D")])
    assert index.lookup("ab1").name == "ab1"
    assert index.lookup("AB-1").name == "AB-1"
    assert index.find("a_b_1") is None  # ambiguous between the two
    assert index.lookup("c_d").name == "C-D"


def test_the_real_table_builds_and_every_entry_is_reachable_by_each_of_its_keys() -> None:
    assert all_algorithms() == ALGORITHMS
    for alg in ALGORITHMS:
        for name in alg.names():
            assert lookup(name) is alg, name
        for oid in alg.oids:
            assert by_oid(oid) is alg
        for cp in alg.tls_groups:
            assert by_tls_group(cp) is alg
        for cp in alg.tls_cipher_suites:
            assert by_tls_cipher_suite(cp) is alg
        for cp in alg.tls_signature_schemes:
            assert by_tls_signature_scheme(cp) is alg
        for name in alg.ssh_names:
            assert by_ssh_name(name) is alg


def test_entries_are_frozen() -> None:
    alg = lookup("ML-KEM-768")
    with pytest.raises(dataclasses.FrozenInstanceError):
        alg.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("generic", "bits", "canonical"),
    [("AES-GCM", 256, "AES-256-GCM"), ("AES/CBC/PKCS5Padding", 128, "AES-128-CBC"), ("AESCCM", 192, "AES-192-CCM"),
     ("MODP", 3072, "ffdhe3072"), ("ffdhe", 2048, "ffdhe2048")],
)
def test_lookup_sized_refines_a_size_less_mode_or_family_spelling(generic: str, bits: int, canonical: str) -> None:
    assert lookup_sized(generic, bits).name == canonical


def test_lookup_sized_does_not_invent_sizes_for_non_sized_entries() -> None:
    with pytest.raises(UnknownAlgorithmError, match="SHA-256"):
        lookup_sized("SHA-256", 256)
    with pytest.raises(UnknownAlgorithmError):
        lookup_sized("AES-GCM", 100)


def test_unknown_name_error_suggests_close_canonical_names() -> None:
    with pytest.raises(UnknownAlgorithmError, match="did you mean ML-KEM-768"):
        lookup("ML-KEM-786")


def test_unknown_algorithm_error_is_a_lookup_error_and_the_backends_one_when_defined() -> None:
    import pqc.errors

    err = UnknownAlgorithmError("x", "name")
    assert isinstance(err, LookupError) and isinstance(err, PqcError)
    assert str(err) == "unknown algorithm name 'x'"
    backend_error = getattr(pqc.errors, "UnknownAlgorithmError", None)
    if backend_error is not None:
        assert isinstance(err, backend_error)
