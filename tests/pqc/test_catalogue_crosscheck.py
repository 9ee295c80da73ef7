"""The table against independent registries shipped in our dependencies: scapy's TLS code-point
tables (cipher suites, named groups, signature algorithms) and the CycloneDX schemas of
cyclonedx-python-lib (primitive vocabulary, algorithm families, curve names)."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from scapy.layers.tls.crypto.groups import _tls_named_groups
from scapy.layers.tls.crypto.suites import _tls_cipher_suites
from scapy.layers.tls.keyexchange import _tls_hash_sig

from pqc.catalogue import ALGORITHMS, Primitive, by_tls_group, by_tls_signature_scheme, lookup

_SUITES = [a for a in ALGORITHMS if a.tls_cipher_suites]
# code points scapy names (the rest — ML-KEM groups, SecP384r1MLKEM1024, brainpool TLS 1.3 and
# ML-DSA schemes — are newer than scapy's tables and were checked against the drafts/RFCs instead)
_GROUPS = [(cp, a) for a in ALGORITHMS for cp in a.tls_groups if cp in _tls_named_groups]
_SIGS = [(cp, a) for a in ALGORITHMS for cp in a.tls_signature_schemes if cp in _tls_hash_sig]


@pytest.mark.parametrize("alg", _SUITES, ids=lambda a: a.name)
def test_cipher_suite_code_point_has_the_same_iana_name_in_scapy(alg) -> None:
    (cp,) = alg.tls_cipher_suites
    assert _tls_cipher_suites[cp] == alg.name


_MAC = {"SHA": "HMAC-SHA1", "SHA256": "HMAC-SHA256", "SHA384": "HMAC-SHA384", "MD5": "HMAC-MD5"}
_TLS12 = re.compile(r"^TLS_(?P<kex>[A-Z]+)(_(?P<auth>[A-Z]+))?_WITH_(?P<cipher>.+)_(?P<mac>SHA|SHA256|SHA384|MD5)$")


@pytest.mark.parametrize("alg", [a for a in _SUITES if a.family == "TLS-1.2"], ids=lambda a: a.name)
def test_tls12_suite_components_agree_with_its_iana_name(alg) -> None:
    m = _TLS12.match(alg.name)
    assert m is not None
    kex, auth, cipher, mac = alg.components
    assert lookup(m["kex"]).name == kex  # ECDHE → ECDH, DHE → DH, RSA → RSA
    assert lookup(m["auth"] or m["kex"]).name == auth  # TLS_RSA_WITH_…: RSA both transports and authenticates
    assert lookup(m["cipher"]).name == cipher  # AES_128_GCM, CHACHA20_POLY1305, 3DES_EDE_CBC, RC4_128 …
    aead = lookup(cipher).primitive is Primitive.AE
    assert mac == (f"HMAC-{m['mac']}" if aead else _MAC[m["mac"]])


@pytest.mark.parametrize(("cp", "alg"), _GROUPS, ids=lambda v: v.name if hasattr(v, "name") else hex(v))
def test_tls_group_agrees_with_scapys_named_group_where_scapy_knows_it(cp: int, alg) -> None:
    name = _tls_named_groups[cp]
    scapy_entry = lookup(name.removesuffix("tls13"))
    # a bare curve name resolves to the ECDSA entry; the group is the ECDH entry of the same curve
    assert scapy_entry is alg or (scapy_entry.parameter_set == alg.parameter_set and alg.family == "ECDH")


_SCAPY_HASH = {"md5": "MD5", "sha1": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256", "sha384": "SHA-384",
               "sha512": "SHA-512"}
_SCAPY_SIG = {"rsa": "RSA", "rsaepss": "RSA", "rsapss": "RSA", "dsa": "DSA", "ecdsa": "ECDSA"}


@pytest.mark.parametrize(("cp", "alg"), _SIGS, ids=lambda v: v.name if hasattr(v, "name") else hex(v))
def test_tls_signature_scheme_agrees_with_scapys_hash_and_signature_where_scapy_knows_it(cp: int, alg) -> None:
    name = _tls_hash_sig[cp]
    if "+" not in name:  # ed25519 / ed448
        assert alg.name.lower() == name
        return
    digest, sig = name.split("+")
    assert alg.components == (_SCAPY_SIG[sig], _SCAPY_HASH[digest])
    assert ("PSS" in alg.name) == ("pss" in sig)


def test_the_crosscheck_covers_most_code_points() -> None:
    assert len(_GROUPS) >= 18 and len(_SIGS) >= 20 and len(_SUITES) == 40


def test_the_hybrid_and_kyber_draft_groups_scapy_knows_resolve_to_our_entries() -> None:
    for cp in (0x11EB, 0x11EC, 0x6399):
        assert by_tls_group(cp).name == _tls_named_groups[cp]
    assert by_tls_signature_scheme(0x0807).name == "Ed25519"


def _cyclonedx_schema(name: str) -> dict:
    return json.loads(resources.files("cyclonedx.schema._res").joinpath(name).read_text())


def _enum_under(obj, key: str) -> list[str]:
    if isinstance(obj, dict):
        if isinstance(obj.get(key), dict) and "enum" in obj[key]:
            return obj[key]["enum"]
        for value in obj.values():
            found = _enum_under(value, key)
            if found:
                return found
    if isinstance(obj, list):
        for value in obj:
            found = _enum_under(value, key)
            if found:
                return found
    return []


def test_primitive_enum_is_exactly_the_cyclonedx_1_6_vocabulary() -> None:
    vocabulary = _enum_under(_cyclonedx_schema("bom-1.6.SNAPSHOT.schema.json"), "primitive")
    assert sorted(vocabulary) == sorted(p.value for p in Primitive)


def test_cyclonedx_family_and_curve_names_exist_in_the_cyclonedx_registry() -> None:
    defs = _cyclonedx_schema("cryptography-defs.SNAPSHOT.schema.json")["definitions"]
    families = set(defs["algorithmFamiliesEnum"]["enum"])
    curves = set(defs["ellipticCurvesEnum"]["enum"])
    mapped = 0
    for alg in ALGORITHMS:
        if alg.cyclonedx_family is not None:
            assert alg.cyclonedx_family in families, alg.name
            mapped += 1
        if alg.cyclonedx_curve is not None:
            assert alg.cyclonedx_curve in curves, alg.name
    assert mapped > len(ALGORITHMS) // 2
    assert lookup("ECDH-P256").cyclonedx_curve == "nist/P-256"
    assert lookup("X25519").cyclonedx_curve == "other/Curve25519"


def test_every_oid_cryptography_names_resolves_by_that_name_to_the_same_entry() -> None:
    from cryptography.hazmat._oid import _OID_NAMES  # cryptography's OID → OpenSSL-style name table

    from pqc.catalogue import by_oid, find

    checked = 0
    for oid, name in _OID_NAMES.items():
        entry = by_oid(oid.dotted_string)
        if entry is None:
            continue
        assert find(name) is entry, (oid.dotted_string, name)
        checked += 1
    assert checked >= 30


def test_every_signature_oid_constant_of_cryptography_is_in_the_catalogue() -> None:
    from cryptography.x509.oid import SignatureAlgorithmOID

    from pqc.catalogue import by_oid

    skipped = {"GOSTR3411_94_WITH_3410_2001", "GOSTR3410_2012_WITH_3411_2012_256",
               "GOSTR3410_2012_WITH_3411_2012_512", "UNSIGNED"}
    for name, oid in vars(SignatureAlgorithmOID).items():
        if name.startswith("_") or name in skipped:
            continue
        assert by_oid(oid.dotted_string) is not None, name
