"""The catalogue's data model: :class:`Algorithm`, :class:`Primitive`, :class:`QuantumStatus`.

An :class:`Algorithm` is one row of the catalogue table (``pqc.catalogue.table``). Sizes are in
**bytes** (``*_bytes``) or **bits** (``key_bits``, ``*_security_bits``), as their names say.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum, StrEnum
from typing import Any


class QuantumStatus(StrEnum):
    """What a large quantum computer (or, for ``classically-broken``, today's computers) does to it.

    ``broken-by-shor``: factoring / discrete logs (RSA, DH, DSA, EC*, X25519, Ed*): 0 bits left.
    ``weakened-by-grover``: symmetric primitives and hashes keep reduced, still useful strength.
    ``quantum-safe``: post-quantum schemes (ML-KEM, ML-DSA, SLH-DSA, …).
    ``classically-broken``: already broken or withdrawn without a quantum computer (MD5, SHA-1, DES…).
    ``hybrid``: a PQ and a classical part combined; secure while either part is.
    """

    BROKEN_BY_SHOR = "broken-by-shor"
    WEAKENED_BY_GROVER = "weakened-by-grover"
    QUANTUM_SAFE = "quantum-safe"
    CLASSICALLY_BROKEN = "classically-broken"
    HYBRID = "hybrid"


class Primitive(StrEnum):
    """CycloneDX 1.6 ``cryptoProperties.algorithmProperties.primitive`` vocabulary."""

    DRBG = "drbg"
    MAC = "mac"
    BLOCK_CIPHER = "block-cipher"
    STREAM_CIPHER = "stream-cipher"
    SIGNATURE = "signature"
    HASH = "hash"
    PKE = "pke"
    XOF = "xof"
    KDF = "kdf"
    KEY_AGREE = "key-agree"
    KEM = "kem"
    AE = "ae"
    COMBINER = "combiner"
    OTHER = "other"
    UNKNOWN = "unknown"


#: Our family → CycloneDX ``algorithmFamily`` (cryptography-defs registry) where the names differ.
_CDX_FAMILY = {"DH": "FFDH", "Camellia": "CAMELLIA", "X25519": "ECDH", "X448": "ECDH"}
#: CycloneDX cryptography-defs families (the subset our table uses; checked against the schema in tests).
_CDX_FAMILIES = frozenset({
    "3DES", "AES", "BLAKE2", "Blowfish", "CAMELLIA", "CMAC", "ChaCha20", "DES", "DSA", "ECDH", "ECDSA", "EdDSA",
    "FFDH", "HKDF", "HMAC", "MD5", "ML-DSA", "ML-KEM", "PBKDF2", "RC4", "RSAES-OAEP", "RSAES-PKCS1", "RSASSA-PKCS1",
    "RSASSA-PSS", "SHA-1", "SHA-2", "SHA-3", "SLH-DSA", "UMAC",
})
#: parameter_set → CycloneDX ``ellipticCurve`` (``<namespace>/<name>``).
_CDX_CURVE = {
    "P-224": "nist/P-224", "P-256": "nist/P-256", "P-384": "nist/P-384", "P-521": "nist/P-521",
    "secp256k1": "secg/secp256k1", "brainpoolP256r1": "brainpool/brainpoolP256r1",
    "brainpoolP384r1": "brainpool/brainpoolP384r1", "brainpoolP512r1": "brainpool/brainpoolP512r1",
    "Curve25519": "other/Curve25519", "Curve448": "other/Curve448",
    "edwards25519": "other/Ed25519", "edwards448": "other/Ed448",
}


@dataclass(frozen=True, slots=True)
class Algorithm:
    """One algorithm (or parameter set, or composite such as a TLS cipher suite) the product knows.

    Identity
      ``name`` canonical name; ``family`` (``RSA``, ``AES``, ``ML-KEM``, ``TLS-1.2`` …); ``aliases``:
      other spellings (OpenSSL, JCA, Go, IANA), matched case-insensitively.
    Identifiers (each unique across the whole catalogue)
      ``oids`` dotted strings; ``tls_groups`` / ``tls_cipher_suites`` / ``tls_signature_schemes``
      IANA TLS code points; ``ssh_names`` (RFC 4250 namespaces, case-sensitive on the wire but
      matched case-insensitively here); ``ike_groups`` IKEv2 transform type 4 IDs.
    Parameters
      ``key_bits``: RSA/DH modulus, symmetric key, or EC field size in bits; ``parameter_set``
      (curve or named set such as ``P-256``, ``ffdhe2048``); ``mode`` for block-cipher modes.
    Sizes in bytes (``None`` where not fixed or not meaningful)
      ``public_key_bytes`` raw/encoded public key or KEM encapsulation key (RSA/DH: modulus bytes,
      EC: uncompressed point), ``private_key_bytes`` (ML-KEM/ML-DSA: expanded FIPS form),
      ``ciphertext_bytes`` (KEM ciphertext, RSA ciphertext), ``signature_bytes`` (ECDSA: fixed
      r‖s IEEE P1363 form; Falcon: maximum), ``shared_secret_bytes``, ``output_bytes`` (hash/MAC).
    Security (rules in :mod:`pqc.catalogue.security`)
      ``classical_security_bits`` best known classical attack cost; ``nist_category`` NIST PQC
      category 1..5; ``quantum_status``; ``quantum_security_bits`` effective bits against a quantum
      adversary (0 when broken by Shor).
    ``components`` canonical names of the parts of a composite, in wire order: the KEMs of a hybrid
      (X25519MLKEM768: ML-KEM-768 first), key + hash of a signature scheme, and the parts of a TLS
      cipher suite (TLS 1.2: key exchange, authentication, cipher, MAC/PRF hash; TLS 1.3: AEAD, hash).
    ``standards`` the defining documents; ``notes`` free text.
    """

    name: str
    family: str
    primitive: Primitive
    quantum_status: QuantumStatus
    quantum_security_bits: int
    classical_security_bits: int | None = None
    nist_category: int | None = None
    aliases: tuple[str, ...] = ()
    oids: tuple[str, ...] = ()
    tls_groups: tuple[int, ...] = ()
    tls_cipher_suites: tuple[int, ...] = ()
    tls_signature_schemes: tuple[int, ...] = ()
    ssh_names: tuple[str, ...] = ()
    ike_groups: tuple[int, ...] = ()
    key_bits: int | None = None
    parameter_set: str | None = None
    mode: str | None = None
    public_key_bytes: int | None = None
    private_key_bytes: int | None = None
    ciphertext_bytes: int | None = None
    signature_bytes: int | None = None
    shared_secret_bytes: int | None = None
    output_bytes: int | None = None
    components: tuple[str, ...] = ()
    standards: tuple[str, ...] = ()
    notes: str = ""

    @property
    def is_quantum_safe(self) -> bool:
        """True for PQ schemes and hybrids (their confidentiality/authenticity survives Shor)."""
        return self.quantum_status in (QuantumStatus.QUANTUM_SAFE, QuantumStatus.HYBRID)

    @property
    def cyclonedx_family(self) -> str | None:
        """CycloneDX ``algorithmFamily`` name (cryptography-defs registry), or ``None`` if it has none.

        RSA splits by scheme there: bare RSA keys and RSAES-PKCS1-v1_5 → ``RSAES-PKCS1``,
        OAEP → ``RSAES-OAEP``, PKCS #1 v1.5 signatures → ``RSASSA-PKCS1``, PSS → ``RSASSA-PSS``.
        """
        if self.family == "RSA":
            for prefix in ("RSASSA-PSS", "RSAES-OAEP"):
                if self.name.startswith(prefix):
                    return prefix
            return "RSASSA-PKCS1" if self.primitive is Primitive.SIGNATURE else "RSAES-PKCS1"
        family = _CDX_FAMILY.get(self.family, self.family)
        return family if family in _CDX_FAMILIES else None

    @property
    def cyclonedx_curve(self) -> str | None:
        """CycloneDX ``ellipticCurve`` (e.g. ``nist/P-256``) for curve-based entries, else ``None``."""
        return _CDX_CURVE.get(self.parameter_set or "")

    def names(self) -> tuple[str, ...]:
        """Canonical name followed by the aliases."""
        return (self.name, *self.aliases)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with stable keys (enum values as strings, tuples as lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Enum):
                value = value.value
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["cyclonedx_family"] = self.cyclonedx_family
        out["cyclonedx_curve"] = self.cyclonedx_curve
        return out
