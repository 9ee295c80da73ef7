"""How the catalogue turns parameters into security figures (bits) and a quantum status.

Every number in the table that is not copied from a standard's size table comes from one of these
functions, so the rules live in one place.

Classical strength
  * Symmetric ciphers: the key length (exhaustive search), except where a better attack is known
    (3DES: meet-in-the-middle, NIST SP 800-57 Part 1 Rev. 5, Table 2: 112 bits for three keys).
  * Hashes: collision resistance, ``n/2`` for an ``n``-bit digest (birthday bound), which is how
    NIST SP 800-57 Part 1 Rev. 5 Table 3 rates hash functions for signatures; XOFs: ``c/2`` for
    capacity ``c`` (FIPS 202, Table 4).
  * RSA and finite-field DH (IFC/FFC): NIST SP 800-57 Part 1 Rev. 5, Table 2 (1024 → 80,
    2048 → 112, 3072 → 128, 7680 → 192, 15360 → 256) and NIST SP 800-56B Rev. 2, Appendix D,
    Table 5 (4096 → 152, 6144 → 176, 8192 → 200); other sizes use that appendix's GNFS work
    formula ``E(n) = (1.923·∛(n·ln2)·∛(ln(n·ln2))² − 4.69) / ln2`` rounded to a multiple of 8.
  * Elliptic curves: half the bit length of the group order (Pollard rho), capped at 256 for P-521
    as in SP 800-57 Table 2.

Quantum strength (``quantum_security_bits``)
  * Shor's algorithm (factoring, discrete logs in F_p* and on elliptic curves) runs in polynomial
    time: **0 bits** for RSA, DH, DSA, ECDH, ECDSA, EdDSA, X25519/X448.
  * Key search under Grover: **k/2** for a k-bit key (AES-128 → 64, AES-256 → 128).
  * Hashes: preimages under Grover cost ``2^(n/2)``; collisions under Brassard–Høyer–Tapp (BHT,
    LATIN'98) ``2^(n/3)``. We report the weaker, **⌊n/3⌋** (SHA-256 → 85, SHA-384 → 128). BHT
    needs ``2^(n/3)`` quantum-accessible memory, so this is a deliberately pessimistic floor
    (Bernstein 2009, "Cost analysis of hash collisions", argues no real speed-up over n/2).
  * MACs and KDFs keyed with a hash: Grover on the key/output, ``n/2``.
  * Post-quantum schemes with a NIST category: the quantum cost of the category's reference
    problem under the same rules (NIST PQC Call for Proposals 2016, §4.A.5): category 1 =
    AES-128 key search → 64, 2 = SHA-256 collision → 85, 3 = AES-192 → 96, 4 = SHA-384
    collision → 128, 5 = AES-256 → 128. It is the category's floor, not a lattice estimate.
  * Hybrids: the maximum over their components (the combination holds while either part holds).
  * Classically broken primitives: the smaller of the classical attack cost and the rule above.
  * Composites (signature scheme = key + hash, TLS cipher suite): the minimum over components,
    and the status of the weakest component (see :func:`weakest_status`).

Status judgements that are not a formula
  * 3DES (TDEA) is ``classically-broken``: its 64-bit block falls to birthday attacks in practice
    (Sweet32, CCS 2016), NIST withdrew SP 800-67 and disallows TDEA encryption after 2023
    (SP 800-131A Rev. 2). Its bit figure stays the MITM figure (112 / 80 for two keys).
    Blowfish is judged the same way (64-bit block), with its key-search figures.
  * RSA-512/768 (factored in 1999/2009) and the 768-bit Oakley group 1 are ``classically-broken``.
  * SHA-1 and MD5 based signatures are ``classically-broken`` (chosen-prefix collisions:
    Leurent–Peyrin 2020, 2^63.4 for SHA-1); HMAC-SHA1 and HMAC-MD5 are not broken as PRFs
    (RFC 6151) and stay ``weakened-by-grover``.
"""

from __future__ import annotations

import math

from pqc.catalogue.model import QuantumStatus

#: NIST SP 800-57 Pt 1 r5 Table 2 and SP 800-56B r2 Table 5: modulus bits → security bits.
IFC_FFC_STRENGTH_TABLE: dict[int, int] = {
    1024: 80,
    2048: 112,
    3072: 128,
    4096: 152,
    6144: 176,
    7680: 192,
    8192: 200,
    15360: 256,
}

#: NIST PQC categories → (classical bits, quantum bits) of the category's reference problem.
CATEGORY_BITS: dict[int, tuple[int, int]] = {
    1: (128, 64),  # AES-128 key search
    2: (128, 85),  # SHA-256 collision
    3: (192, 96),  # AES-192 key search
    4: (192, 128),  # SHA-384 collision
    5: (256, 128),  # AES-256 key search
}

# Severity order used to combine the statuses of a composite's parts (worst first).
_SEVERITY = (
    QuantumStatus.CLASSICALLY_BROKEN,
    QuantumStatus.BROKEN_BY_SHOR,
    QuantumStatus.WEAKENED_BY_GROVER,
    QuantumStatus.HYBRID,
    QuantumStatus.QUANTUM_SAFE,
)


def gnfs_security_bits(modulus_bits: int) -> int:
    """SP 800-56B Rev. 2 Appendix D work estimate for an ``modulus_bits``-bit RSA/FFC modulus.

    ``E(n) = (1.923·∛(n·ln2)·∛(ln(n·ln2))² − 4.69) / ln2``, rounded to the nearest multiple of 8.
    """
    x = modulus_bits * math.log(2)
    e = (1.923 * math.cbrt(x) * math.cbrt(math.log(x)) ** 2 - 4.69) / math.log(2)
    return int(8 * round(e / 8))


def ifc_security_bits(modulus_bits: int) -> int:
    """Classical security (bits) of RSA / finite-field DH with an ``modulus_bits``-bit modulus."""
    return IFC_FFC_STRENGTH_TABLE.get(modulus_bits, gnfs_security_bits(modulus_bits))


def ecc_security_bits(order_bits: int) -> int:
    """Pollard-rho cost (bits) on a curve with an ``order_bits``-bit prime-order subgroup (≤ 256)."""
    return min(order_bits // 2, 256)


def grover_bits(key_bits: int) -> int:
    """Effective bits of a ``key_bits``-bit key against Grover search (k/2)."""
    return key_bits // 2


def hash_classical_bits(digest_bits: int) -> int:
    """Collision resistance (bits) of an ``digest_bits``-bit hash: n/2."""
    return digest_bits // 2


def hash_quantum_bits(digest_bits: int) -> int:
    """Quantum collision cost (bits) of an ``digest_bits``-bit hash under BHT: ⌊n/3⌋."""
    return digest_bits // 3


def category_bits(category: int) -> tuple[int, int]:
    """(classical, quantum) bits of NIST PQC ``category`` 1..5 (see module docstring)."""
    return CATEGORY_BITS[category]


def weakest_status(statuses: list[QuantumStatus]) -> QuantumStatus:
    """Status of a composite: the worst of its parts' statuses."""
    return min(statuses, key=_SEVERITY.index)
