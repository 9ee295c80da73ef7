"""Catalogue values checked against real objects: ``cryptography`` keys, signatures and OIDs,
kyber-py / dilithium-py for the parameter sets ``cryptography`` lacks, hashlib, and the published
ML-DSA certificates and X-Wing / ML-KEM vectors in ``../shared/vectors``."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat._oid import HashAlgorithmOID  # public x509.oid does not re-export it
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, mldsa, mlkem, padding, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import PublicKeyAlgorithmOID, SignatureAlgorithmOID

from pqc.catalogue import (
    ALGORITHMS,
    QuantumStatus,
    algorithm_for_key,
    by_oid,
    certificate_algorithms,
    lookup,
    lookup_sized,
)

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


# --- RSA ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [1024, 2048])
def test_rsa_sizes_match_a_real_key_signature_and_ciphertext(bits: int) -> None:
    key = rsa.generate_private_key(65537, bits)
    alg = algorithm_for_key(key.public_key())
    assert alg is lookup_sized("RSA", bits) and alg.key_bits == bits
    assert alg.public_key_bytes == (key.public_key().public_numbers().n.bit_length() + 7) // 8
    sig = key.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    assert len(sig) == alg.signature_bytes
    ct = key.public_key().encrypt(b"m", padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    assert len(ct) == alg.ciphertext_bytes
    assert alg.quantum_status is QuantumStatus.BROKEN_BY_SHOR and alg.quantum_security_bits == 0


@pytest.mark.parametrize(("bits", "q_bits"), [(1024, 160), (2048, 256)])
def test_dsa_sizes_match_a_real_key_and_signature(bits: int, q_bits: int) -> None:
    key = dsa.generate_private_key(bits)
    alg = algorithm_for_key(key)
    assert alg is lookup_sized("DSA", bits)
    assert key.parameters().parameter_numbers().q.bit_length() == q_bits == 8 * alg.private_key_bytes
    assert alg.public_key_bytes == (key.parameters().parameter_numbers().p.bit_length() + 7) // 8
    r, s = decode_dss_signature(key.sign(b"m", hashes.SHA256()))
    assert max(r, s).bit_length() <= q_bits and alg.signature_bytes == 2 * q_bits // 8


def test_dh_keys_map_to_a_computed_size_entry_not_a_named_group() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        from cryptography.hazmat.primitives.asymmetric import dh

        key = dh.generate_parameters(2, 512).generate_private_key()
    alg = algorithm_for_key(key)
    assert (alg.name, alg.family, alg.key_bits) == ("DH-512", "DH", 512)
    assert alg.quantum_status is QuantumStatus.CLASSICALLY_BROKEN  # below 1024 bits
    assert alg.shared_secret_bytes == 64 and alg.oids == ()


# --- elliptic curves ------------------------------------------------------------------------

_CURVES = [
    (ec.SECP224R1(), "ECDSA-P224", "ECDH-P224"),
    (ec.SECP256R1(), "ECDSA-P256", "ECDH-P256"),
    (ec.SECP384R1(), "ECDSA-P384", "ECDH-P384"),
    (ec.SECP521R1(), "ECDSA-P521", "ECDH-P521"),
    (ec.SECP256K1(), "ECDSA-secp256k1", "ECDH-secp256k1"),
    (ec.BrainpoolP256R1(), "ECDSA-brainpoolP256r1", "ECDH-brainpoolP256r1"),
    (ec.BrainpoolP384R1(), "ECDSA-brainpoolP384r1", "ECDH-brainpoolP384r1"),
    (ec.BrainpoolP512R1(), "ECDSA-brainpoolP512r1", "ECDH-brainpoolP512r1"),
]


@pytest.mark.parametrize(("curve", "ecdsa_name", "ecdh_name"), _CURVES, ids=[c[1] for c in _CURVES])
def test_ec_sizes_oids_and_names_match_real_keys(curve: ec.EllipticCurve, ecdsa_name: str, ecdh_name: str) -> None:
    key = ec.generate_private_key(curve)
    signing, agreeing = algorithm_for_key(key), algorithm_for_key(key, key_agreement=True)
    assert (signing.name, agreeing.name) == (ecdsa_name, ecdh_name)
    assert lookup(curve.name) is signing
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert len(point) == signing.public_key_bytes == agreeing.public_key_bytes
    scalar_bytes = (curve.key_size + 7) // 8
    assert signing.private_key_bytes == scalar_bytes
    r, s = decode_dss_signature(key.sign(b"m", ec.ECDSA(hashes.SHA256())))
    assert max(r, s).bit_length() <= curve.key_size
    assert signing.signature_bytes == 2 * scalar_bytes  # fixed-width r||s
    peer = ec.generate_private_key(curve)
    assert len(key.exchange(ec.ECDH(), peer.public_key())) == agreeing.shared_secret_bytes
    assert by_oid(ec.EllipticCurveOID.__dict__[_OID_NAME[curve.name]].dotted_string) is signing
    assert signing.classical_security_bits == min(curve.key_size // 2, 256)


_OID_NAME = {
    "secp224r1": "SECP224R1",
    "secp256r1": "SECP256R1",
    "secp384r1": "SECP384R1",
    "secp521r1": "SECP521R1",
    "secp256k1": "SECP256K1",
    "brainpoolP256r1": "BRAINPOOLP256R1",
    "brainpoolP384r1": "BRAINPOOLP384R1",
    "brainpoolP512r1": "BRAINPOOLP512R1",
}


def test_edwards_and_montgomery_sizes_match_real_keys() -> None:
    for priv_cls, name in ((ed25519.Ed25519PrivateKey, "Ed25519"), (ed448.Ed448PrivateKey, "Ed448")):
        key = priv_cls.generate()
        alg = algorithm_for_key(key)
        assert alg.name == name
        assert len(key.public_key().public_bytes(*RAW)) == alg.public_key_bytes
        assert len(key.private_bytes_raw()) == alg.private_key_bytes
        assert len(key.sign(b"m")) == alg.signature_bytes
    for priv_cls, name in ((x25519.X25519PrivateKey, "X25519"), (x448.X448PrivateKey, "X448")):
        key, peer = priv_cls.generate(), priv_cls.generate()
        alg = algorithm_for_key(key.public_key())
        assert alg.name == name
        assert len(key.public_key().public_bytes(*RAW)) == alg.public_key_bytes
        assert len(key.private_bytes_raw()) == alg.private_key_bytes
        assert len(key.exchange(peer.public_key())) == alg.shared_secret_bytes


# --- post-quantum ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "name"), [(mlkem.MLKEM768PrivateKey, "ML-KEM-768"), (mlkem.MLKEM1024PrivateKey, "ML-KEM-1024")]
)
def test_ml_kem_sizes_match_cryptography(cls, name: str) -> None:
    key = cls.generate()
    alg = algorithm_for_key(key)
    assert alg.name == name and alg.quantum_status is QuantumStatus.QUANTUM_SAFE
    _assert_public_key_as_catalogued(key.public_key(), alg)
    ss, ct = key.public_key().encapsulate()
    assert len(ct) == alg.ciphertext_bytes and len(ss) == alg.shared_secret_bytes
    assert key.decapsulate(ct) == ss
    assert len(key.private_bytes_raw()) == 64  # seed d||z, as the note says


def test_ml_kem_expanded_key_sizes_match_kyber_py_for_all_three_sets() -> None:
    from kyber_py.ml_kem import ML_KEM_512, ML_KEM_768, ML_KEM_1024

    for impl, name in ((ML_KEM_512, "ML-KEM-512"), (ML_KEM_768, "ML-KEM-768"), (ML_KEM_1024, "ML-KEM-1024")):
        alg = lookup(name)
        ek, dk = impl.keygen()
        key, ct = impl.encaps(ek)
        assert (len(ek), len(dk), len(ct), len(key)) == (
            alg.public_key_bytes, alg.private_key_bytes, alg.ciphertext_bytes, alg.shared_secret_bytes
        )


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (mldsa.MLDSA44PrivateKey, "ML-DSA-44"),
        (mldsa.MLDSA65PrivateKey, "ML-DSA-65"),
        (mldsa.MLDSA87PrivateKey, "ML-DSA-87"),
    ],
)
def test_ml_dsa_sizes_and_oids_match_cryptography(cls, name: str) -> None:
    key = cls.generate()
    alg = algorithm_for_key(key.public_key())
    assert alg.name == name
    _assert_public_key_as_catalogued(key.public_key(), alg)
    assert len(key.sign(b"m")) == alg.signature_bytes


def test_ml_dsa_expanded_key_sizes_match_dilithium_py() -> None:
    from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87

    for impl, name in ((ML_DSA_44, "ML-DSA-44"), (ML_DSA_65, "ML-DSA-65"), (ML_DSA_87, "ML-DSA-87")):
        alg = lookup(name)
        pk, sk = impl.keygen()
        assert (len(pk), len(sk), len(impl.sign(sk, b"m"))) == (
            alg.public_key_bytes, alg.private_key_bytes, alg.signature_bytes
        )


@pytest.mark.parametrize("level", [44, 65, 87])
def test_published_ml_dsa_certificates_map_to_their_catalogue_entry_by_oid(shared_vectors: Path, level: int) -> None:
    cert = x509.load_pem_x509_certificate((shared_vectors / "ml-dsa-certs" / f"ML-DSA-{level}.crt").read_bytes())
    found = certificate_algorithms(cert)
    entry = lookup(f"ML-DSA-{level}")
    assert found.public_key is entry and found.signature is entry
    assert found.signature_oid in entry.oids
    assert len(cert.signature) == entry.signature_bytes
    assert len(cert.public_key().public_bytes_raw()) == entry.public_key_bytes
    pub = serialization.load_pem_public_key((shared_vectors / "ml-dsa-certs" / f"ML-DSA-{level}.pub").read_bytes())
    assert algorithm_for_key(pub) is entry


def test_x_wing_sizes_match_the_official_vectors(shared_vectors: Path) -> None:
    alg = lookup("X-Wing")
    for vec in json.loads((shared_vectors / "xwing" / "test-vectors.json").read_text()):
        sizes = {k: len(bytes.fromhex(v)) for k, v in vec.items()}
        assert sizes["pk"] == alg.public_key_bytes
        assert sizes["sk"] == alg.private_key_bytes
        assert sizes["ct"] == alg.ciphertext_bytes
        assert sizes["ss"] == alg.shared_secret_bytes
    assert alg.components == ("ML-KEM-768", "X25519")


@pytest.mark.parametrize("name", ["ML-KEM-768", "ML-KEM-1024"])
def test_ml_kem_sizes_match_the_cctv_intermediate_vectors(shared_vectors: Path, name: str) -> None:
    values: dict[str, str] = {}
    for line in (shared_vectors / "ml-kem" / "intermediate" / f"{name}.txt").read_text().splitlines():
        key, _, value = line.partition(" = ")
        values.setdefault(key.strip(), value.strip())
    alg = lookup(name)
    assert len(bytes.fromhex(values["ek"])) == alg.public_key_bytes
    assert len(bytes.fromhex(values["dk"])) == alg.private_key_bytes
    assert len(bytes.fromhex(values["c"])) == alg.ciphertext_bytes
    assert len(bytes.fromhex(values["K"])) == alg.shared_secret_bytes


def test_hybrid_tls_share_sizes_are_the_sum_of_their_parts() -> None:
    for name in ("X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024", "mlkem768x25519-sha256"):
        alg = lookup(name)
        parts = [lookup(c) for c in alg.components]
        assert alg.public_key_bytes == sum(p.public_key_bytes for p in parts)
        assert alg.ciphertext_bytes == sum(p.ciphertext_bytes or p.public_key_bytes for p in parts)
    for name in ("X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024"):
        alg = lookup(name)
        assert alg.shared_secret_bytes == sum(lookup(c).shared_secret_bytes for c in alg.components)


# --- OIDs from cryptography.x509.oid --------------------------------------------------------

_CRYPTOGRAPHY_OIDS = {
    SignatureAlgorithmOID.RSA_WITH_MD5: "RSASSA-PKCS1-v1_5-MD5",
    SignatureAlgorithmOID.RSA_WITH_SHA1: "RSASSA-PKCS1-v1_5-SHA1",
    SignatureAlgorithmOID.RSA_WITH_SHA224: "RSASSA-PKCS1-v1_5-SHA224",
    SignatureAlgorithmOID.RSA_WITH_SHA256: "RSASSA-PKCS1-v1_5-SHA256",
    SignatureAlgorithmOID.RSA_WITH_SHA384: "RSASSA-PKCS1-v1_5-SHA384",
    SignatureAlgorithmOID.RSA_WITH_SHA512: "RSASSA-PKCS1-v1_5-SHA512",
    SignatureAlgorithmOID.RSA_WITH_SHA3_256: "RSASSA-PKCS1-v1_5-SHA3-256",
    SignatureAlgorithmOID.RSASSA_PSS: "RSASSA-PSS",
    SignatureAlgorithmOID.ECDSA_WITH_SHA1: "ECDSA-SHA1",
    SignatureAlgorithmOID.ECDSA_WITH_SHA224: "ECDSA-SHA224",
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "ECDSA-SHA256",
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: "ECDSA-SHA384",
    SignatureAlgorithmOID.ECDSA_WITH_SHA512: "ECDSA-SHA512",
    SignatureAlgorithmOID.ECDSA_WITH_SHA3_256: "ECDSA-SHA3-256",
    SignatureAlgorithmOID.DSA_WITH_SHA1: "DSA-SHA1",
    SignatureAlgorithmOID.DSA_WITH_SHA224: "DSA-SHA224",
    SignatureAlgorithmOID.DSA_WITH_SHA256: "DSA-SHA256",
    SignatureAlgorithmOID.ED25519: "Ed25519",
    SignatureAlgorithmOID.ED448: "Ed448",
    SignatureAlgorithmOID.ML_DSA_44: "ML-DSA-44",
    SignatureAlgorithmOID.ML_DSA_65: "ML-DSA-65",
    SignatureAlgorithmOID.ML_DSA_87: "ML-DSA-87",
    PublicKeyAlgorithmOID.DSA: "DSA",
    PublicKeyAlgorithmOID.EC_PUBLIC_KEY: "ECDSA",
    PublicKeyAlgorithmOID.RSAES_PKCS1_v1_5: "RSA",
    PublicKeyAlgorithmOID.X25519: "X25519",
    PublicKeyAlgorithmOID.X448: "X448",
    PublicKeyAlgorithmOID.ML_KEM_768: "ML-KEM-768",
    PublicKeyAlgorithmOID.ML_KEM_1024: "ML-KEM-1024",
    HashAlgorithmOID.SHA1: "SHA-1",
    HashAlgorithmOID.SHA224: "SHA-224",
    HashAlgorithmOID.SHA256: "SHA-256",
    HashAlgorithmOID.SHA384: "SHA-384",
    HashAlgorithmOID.SHA512: "SHA-512",
    HashAlgorithmOID.SHA3_224_NIST: "SHA3-224",
    HashAlgorithmOID.SHA3_256_NIST: "SHA3-256",
    HashAlgorithmOID.SHA3_384_NIST: "SHA3-384",
    HashAlgorithmOID.SHA3_512_NIST: "SHA3-512",
}


@pytest.mark.parametrize(("oid", "name"), list(_CRYPTOGRAPHY_OIDS.items()), ids=lambda v: getattr(v, "_name", v))
def test_cryptography_oid_constants_resolve_to_the_expected_entry(oid: x509.ObjectIdentifier, name: str) -> None:
    hit = by_oid(oid.dotted_string)
    assert hit is not None and hit.name == name


def test_signature_entries_with_a_hash_carry_the_hash_and_key_as_components() -> None:
    for oid, name in _CRYPTOGRAPHY_OIDS.items():
        alg = lookup(name)
        if oid in vars(SignatureAlgorithmOID).values() and len(alg.components) == 2:
            key, digest = alg.components
            assert lookup(key).family == alg.family
            assert lookup(digest).primitive.value == "hash"


def _der_header(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content length) of the DER TLV at ``pos``."""
    tag, first = der[pos], der[pos + 1]
    if first < 0x80:
        return tag, pos + 2, first
    n = first & 0x7F
    return tag, pos + 2 + n, int.from_bytes(der[pos + 2 : pos + 2 + n], "big")


def _spki_oid(der: bytes) -> str:
    """Dotted OID of the AlgorithmIdentifier of a DER SubjectPublicKeyInfo."""
    tag, pos, _ = _der_header(der, 0)  # SubjectPublicKeyInfo SEQUENCE
    assert tag == 0x30
    tag, pos, _ = _der_header(der, pos)  # AlgorithmIdentifier SEQUENCE
    assert tag == 0x30
    tag, pos, length = _der_header(der, pos)  # OBJECT IDENTIFIER
    assert tag == 0x06
    body = der[pos : pos + length]
    first, rest = divmod(body[0], 40)
    arcs, value = [first, rest], 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return ".".join(map(str, arcs))


def _assert_public_key_as_catalogued(public_key: Any, alg: Any) -> None:
    """The raw public key has the catalogue's size and its SubjectPublicKeyInfo names one of the entry's OIDs."""
    assert len(public_key.public_bytes_raw()) == alg.public_key_bytes
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert _spki_oid(spki) in alg.oids


# --- symmetric and hashes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "digest"),
    [
        ("MD5", hashes.MD5()),
        ("SHA-1", hashes.SHA1()),
        ("SHA-224", hashes.SHA224()),
        ("SHA-256", hashes.SHA256()),
        ("SHA-384", hashes.SHA384()),
        ("SHA-512", hashes.SHA512()),
        ("SHA-512/224", hashes.SHA512_224()),
        ("SHA-512/256", hashes.SHA512_256()),
        ("SHA3-224", hashes.SHA3_224()),
        ("SHA3-256", hashes.SHA3_256()),
        ("SHA3-384", hashes.SHA3_384()),
        ("SHA3-512", hashes.SHA3_512()),
        ("BLAKE2b-512", hashes.BLAKE2b(64)),
        ("BLAKE2s-256", hashes.BLAKE2s(32)),
    ],
)
def test_hash_output_sizes_match_cryptography_and_the_hash_rule(name: str, digest: hashes.HashAlgorithm) -> None:
    alg = lookup(name)
    h = hashes.Hash(digest)
    h.update(b"m")
    assert len(h.finalize()) == alg.output_bytes
    n = 8 * alg.output_bytes
    if alg.quantum_status is QuantumStatus.WEAKENED_BY_GROVER:
        assert (alg.classical_security_bits, alg.quantum_security_bits) == (n // 2, n // 3)
    else:
        assert alg.quantum_status is QuantumStatus.CLASSICALLY_BROKEN and name in ("MD5", "SHA-1")


@pytest.mark.parametrize(("bits", "quantum"), [(128, 64), (192, 96), (256, 128)])
def test_aes_key_sizes_match_real_keys_and_grover_halves_them(bits: int, quantum: int) -> None:
    key = AESGCM.generate_key(bit_length=bits)
    alg = lookup(f"AES-{bits}-GCM")
    assert 8 * len(key) == alg.key_bits == bits
    assert alg.quantum_status is QuantumStatus.WEAKENED_BY_GROVER
    assert (alg.classical_security_bits, alg.quantum_security_bits) == (bits, quantum)
    AESGCM(key).encrypt(b"\0" * 12, b"m", None)  # the size really is an AES-GCM key


def test_chacha20_poly1305_key_size_matches_a_real_key() -> None:
    assert 8 * len(ChaCha20Poly1305.generate_key()) == lookup("ChaCha20-Poly1305").key_bits == 256


# --- structural invariants over the whole table ---------------------------------------------

_DOTTED = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


def test_every_entry_obeys_the_status_rules() -> None:
    for alg in ALGORITHMS:
        st = alg.quantum_status
        if st is QuantumStatus.BROKEN_BY_SHOR:
            assert alg.quantum_security_bits == 0, alg.name
        if st is QuantumStatus.WEAKENED_BY_GROVER:
            assert alg.quantum_security_bits > 0, alg.name
            assert alg.classical_security_bits is None or alg.quantum_security_bits <= alg.classical_security_bits
        if st is QuantumStatus.QUANTUM_SAFE:
            assert alg.quantum_security_bits >= 64 and alg.nist_category in (1, 2, 3, 4, 5), alg.name
        if st is QuantumStatus.HYBRID:
            parts = [lookup(c) for c in alg.components]
            assert any(p.quantum_status is QuantumStatus.QUANTUM_SAFE for p in parts), alg.name
            assert any(p.quantum_status is QuantumStatus.BROKEN_BY_SHOR for p in parts), alg.name
        assert alg.nist_category is None or 1 <= alg.nist_category <= 5
        for oid in alg.oids:
            assert _DOTTED.match(oid), (alg.name, oid)
        for cp in (*alg.tls_groups, *alg.tls_cipher_suites, *alg.tls_signature_schemes):
            assert 0 <= cp <= 0xFFFF
        for name in alg.ssh_names:
            assert name == name.strip() and name.isascii() and " " not in name


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("RSA-2048", "broken-by-shor"),
        ("ffdhe2048", "broken-by-shor"),
        ("DSA", "broken-by-shor"),
        ("ECDH-P256", "broken-by-shor"),
        ("X25519", "broken-by-shor"),
        ("Ed448", "broken-by-shor"),
        ("AES-128", "weakened-by-grover"),
        ("SHA-256", "weakened-by-grover"),
        ("HMAC-SHA1", "weakened-by-grover"),
        ("MD5", "classically-broken"),
        ("SHA-1", "classically-broken"),
        ("DES", "classically-broken"),
        ("RC4", "classically-broken"),
        ("3DES", "classically-broken"),
        ("RSA-512", "classically-broken"),
        ("SHA1withRSA", "classically-broken"),
        ("ML-KEM-512", "quantum-safe"),
        ("ML-DSA-87", "quantum-safe"),
        ("SLH-DSA-SHAKE-256f", "quantum-safe"),
        ("Falcon-512", "quantum-safe"),
        ("Classic-McEliece-6960119f", "quantum-safe"),
        ("X-Wing", "hybrid"),
        ("SecP384r1MLKEM1024", "hybrid"),
        ("sntrup761x25519-sha512", "hybrid"),
        ("TLS_AES_256_GCM_SHA384", "weakened-by-grover"),
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "broken-by-shor"),
        ("RC4-SHA", "classically-broken"),
        ("DES-CBC3-SHA", "classically-broken"),
    ],
)
def test_quantum_status_follows_the_documented_rules(name: str, status: str) -> None:
    assert lookup(name).quantum_status.value == status


def test_slh_dsa_has_all_twelve_parameter_sets_with_fips_205_sizes_and_consecutive_oids() -> None:
    sets = [a for a in ALGORITHMS if a.family == "SLH-DSA" and not a.components]
    prehash = [a for a in ALGORITHMS if a.family == "SLH-DSA" and a.components]
    assert len(sets) == len(prehash) == 12
    assert sorted(int(a.oids[0].rsplit(".", 1)[1]) for a in sets) == list(range(20, 32))
    assert sorted(int(a.oids[0].rsplit(".", 1)[1]) for a in prehash) == list(range(35, 47))
    for hashed in prehash:  # HashSLH-DSA keeps the keys and signature size of its pure scheme
        pure = lookup(hashed.components[0])
        assert (hashed.public_key_bytes, hashed.signature_bytes) == (pure.public_key_bytes, pure.signature_bytes)
    assert lookup("SLH-DSA-SHA2-128s").signature_bytes == 7856
    assert lookup("SLH-DSA-SHAKE-256f").signature_bytes == 49856
    assert {a.public_key_bytes for a in sets} == {32, 48, 64}


def test_tls_hybrid_x25519mlkem768_puts_ml_kem_first_and_secp_hybrids_put_ecdh_first() -> None:
    assert lookup("X25519MLKEM768").components == ("ML-KEM-768", "X25519")
    assert lookup("SecP256r1MLKEM768").components == ("ECDH-P256", "ML-KEM-768")
    assert lookup("SecP384r1MLKEM1024").components == ("ECDH-P384", "ML-KEM-1024")


def test_rsa_and_dh_strength_follow_nist_tables() -> None:
    from pqc.catalogue.security import gnfs_security_bits

    expected = {1024: 80, 2048: 112, 3072: 128, 4096: 152, 7680: 192, 8192: 200, 15360: 256}
    for bits, strength in expected.items():
        assert lookup_sized("RSA", bits).classical_security_bits == strength
    # SP 800-56B Rev. 2 Table 5 is reproduced by its own formula
    assert [gnfs_security_bits(n) for n in (2048, 3072, 4096, 6144, 8192)] == [112, 128, 152, 176, 200]
    assert lookup("ffdhe3072").classical_security_bits == 128


def test_round3_predecessors_are_separate_entries_from_the_fips_schemes() -> None:
    # liboqs still offers Kyber/Dilithium/SPHINCS+ by those names; they do not interoperate with
    # ML-KEM/ML-DSA/SLH-DSA, so an inventory must be able to tell them apart.
    for old, new in (("Kyber768", "ML-KEM-768"), ("Dilithium3", "ML-DSA-65"),
                     ("SPHINCS+-SHA2-128s-simple", "SLH-DSA-SHA2-128s")):
        assert lookup(old) is not lookup(new)
        assert lookup(old).family != lookup(new).family
        assert "not interoperable" in lookup(old).notes
    assert lookup("Dilithium3").private_key_bytes != lookup("ML-DSA-65").private_key_bytes
