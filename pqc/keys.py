"""Key serialisation: PEM/DER (PKCS#8, SubjectPublicKeyInfo) where a standard exists, a documented
qshift PEM format for the rest, and :func:`write_keypair` (private key 0600, public key beside it).

Standard formats (``cryptography`` encodes; we parse the private-key CHOICE ourselves to give typed errors):

* ML-KEM-768/1024 — PKCS#8 / SPKI per draft-ietf-lamps-kyber-certificates (OIDs 2.16.840.1.101.3.4.4.2/.3).
* ML-DSA-44/65/87 — PKCS#8 / SPKI per RFC 9881 (OIDs 2.16.840.1.101.3.4.3.17/.18/.19).
* Ed25519, X25519 — RFC 8410.

For ML-DSA and ML-KEM the private key is a CHOICE of ``seed [0]``, ``expandedKey`` and ``both``.
``seed`` loads. ``both`` loads from the seed and is rejected (:class:`InvalidKeyError`) unless the expanded
key agrees with it on every part computable without re-running the lattice key generation (ML-DSA: ρ, K,
tr = H(pk), the η-range of s1 and s2; ML-KEM: ek, H(ek), z). ``expandedKey`` alone is rejected: the
OpenSSL backend can only import a seed.

qshift format (X-Wing, X25519MLKEM768, MLDSA65-Ed25519 composite): PEM with label
``QSHIFT PRIVATE KEY`` / ``QSHIFT PUBLIC KEY`` whose base64 body is::

    "qshift-key-v1" 0x00  algorithm-name (ASCII)  0x00  raw key bytes

with raw bytes as each class's ``private_bytes_raw()`` / ``public_bytes_raw()`` documents
(X-Wing: 32-byte seed / 1216-byte pk; X25519MLKEM768: 96 / 1216; composite: 64 / 1984).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from pqc import _der
from pqc.backends.cryptography_keys import wrap_backend_key
from pqc.catalogue import Algorithm, lookup
from pqc.errors import InvalidKeyError, KeyFileError
from pqc.hybrid import X25519MLKEM768PrivateKey, X25519MLKEM768PublicKey
from pqc.mlkem import MLKEM768PrivateKey, MLKEM1024PrivateKey
from pqc.signatures import (
    CompositeMLDSA65Ed25519PrivateKey,
    CompositeMLDSA65Ed25519PublicKey,
    MLDSA44PrivateKey,
    MLDSA65PrivateKey,
    MLDSA87PrivateKey,
)
from pqc.xwing import XWingPrivateKey, XWingPublicKey

QSHIFT_PRIVATE_LABEL = "QSHIFT PRIVATE KEY"
QSHIFT_PUBLIC_LABEL = "QSHIFT PUBLIC KEY"
_MAGIC = b"qshift-key-v1"

# qshift-format algorithms: name -> (private from raw, public from raw)
_RAW_FORMATS: dict[str, tuple[Callable[[bytes], Any], Callable[[bytes], Any]]] = {
    "X-Wing": (XWingPrivateKey.from_seed_bytes, XWingPublicKey.from_public_bytes),
    "X25519MLKEM768": (X25519MLKEM768PrivateKey.from_private_bytes, X25519MLKEM768PublicKey.from_public_bytes),
    "MLDSA65-Ed25519": (
        CompositeMLDSA65Ed25519PrivateKey.from_private_bytes,
        CompositeMLDSA65Ed25519PublicKey.from_public_bytes,
    ),
}

# FIPS 204 Table 1 parameters the catalogue does not carry: name -> (k, l, η)
_MLDSA_PARAMETERS = {"ML-DSA-44": (4, 4, 2), "ML-DSA-65": (6, 5, 4), "ML-DSA-87": (8, 7, 2)}
# FIPS 203 Table 2: name -> k
_MLKEM_K = {"ML-KEM-512": 2, "ML-KEM-768": 3, "ML-KEM-1024": 4}
# OID -> catalogue row, for the PKCS#8 forms parsed here (OIDs and expanded key sizes come from the rows)
_LATTICE_ROWS = {oid: row for row in map(lookup, (*_MLDSA_PARAMETERS, *_MLKEM_K)) for oid in row.oids}
_SEED_CLASSES: dict[str, Any] = {cls.algorithm: cls for cls in (
    MLDSA44PrivateKey, MLDSA65PrivateKey, MLDSA87PrivateKey, MLKEM768PrivateKey, MLKEM1024PrivateKey)}

_PEM_RE = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)


# ---- reading ----------------------------------------------------------------------------------------


def _pem_blocks(data: bytes, source: str) -> list[tuple[str, bytes]]:
    blocks = []
    for match in _PEM_RE.finditer(data):
        try:
            body = base64.b64decode(b"".join(match.group(2).split()), validate=True)
        except ValueError:
            raise InvalidKeyError(f"{source}: PEM block {match.group(1).decode()} is not valid base64") from None
        blocks.append((match.group(1).decode(), body))
    return blocks


def _parse_qshift(body: bytes, source: str) -> tuple[str, bytes]:
    parts = body.split(b"\x00", 2)
    if len(parts) != 3 or parts[0] != _MAGIC:
        raise InvalidKeyError(f"{source}: not a qshift-key-v1 body")
    name = parts[1].decode("ascii", "replace")
    if name not in _RAW_FORMATS:
        raise InvalidKeyError(f"{source}: qshift key for unknown algorithm {name!r}")
    return name, parts[2]


def _eta_in_range(packed: bytes, eta: int) -> int:
    """Index of the first coefficient whose packed value exceeds 2η (FIPS 204 Alg. 19 BitUnpack), or −1."""
    bits = 3 if eta == 2 else 4
    value = int.from_bytes(packed, "little")
    mask = (1 << bits) - 1
    for index in range(len(packed) * 8 // bits):
        if (value >> (index * bits)) & mask > 2 * eta:
            return index
    return -1


def _check_mldsa_both(
    name: str, k: int, l_: int, eta: int, seed: bytes, expanded: bytes, pk: bytes, source: str
) -> None:
    """Checks of the expanded key against the seed that need no lattice arithmetic (FIPS 204 Alg. 6, 24)."""
    rho_rho1_k = hashlib.shake_256(seed + bytes([k, l_])).digest(128)  # (ρ, ρ', K) = H(ξ ‖ k ‖ l, 128)
    if expanded[:32] != pk[:32]:
        raise InvalidKeyError(f"{source}: {name} expanded key ρ (bytes 0..31) does not match the seed")
    if expanded[32:64] != rho_rho1_k[96:128]:
        raise InvalidKeyError(f"{source}: {name} expanded key K (bytes 32..63) does not match the seed")
    if expanded[64:128] != hashlib.shake_256(pk).digest(64):
        raise InvalidKeyError(f"{source}: {name} expanded key tr (bytes 64..127) is not H(pk)")
    s_bytes = (k + l_) * 32 * (3 if eta == 2 else 4)
    bad = _eta_in_range(expanded[128 : 128 + s_bytes], eta)
    if bad >= 0:
        raise InvalidKeyError(f"{source}: {name} expanded key s1/s2 coefficient {bad} exceeds η={eta}")


def _seed_and_expanded(inner: bytes, name: str, seed_size: int, expanded_size: int,
                       source: str) -> tuple[bytes, bytes | None]:
    """The seed, and the expanded key when present, of an ML-DSA / ML-KEM PKCS#8 ``privateKey``.

    Both use the CHOICE of RFC 9881 §6 (ML-DSA) and draft-ietf-lamps-kyber-certificates (ML-KEM):
    ``seed [0] IMPLICIT OCTET STRING``, ``expandedKey OCTET STRING`` or ``both SEQUENCE {seed,
    expandedKey}``. The backend imports only the seed, so the expandedKey-only form is refused; the caller
    checks that an expanded key it gets agrees with the seed.
    """
    choice = _der.read_tlv(inner, 0, f"{source}: {name} private key")
    if choice.end != len(inner):
        raise InvalidKeyError(f"{source}: {name} private key has {len(inner) - choice.end} trailing bytes")
    if choice.tag == _der.CONTEXT_0_PRIMITIVE:
        return choice.value, None
    if choice.tag == _der.SEQUENCE:
        parts = _der.read_children(choice.value, f"{source}: {name} private key (both)")
        if len(parts) != 2 or parts[0].tag != _der.OCTET_STRING or parts[1].tag != _der.OCTET_STRING:
            raise InvalidKeyError(f"{source}: {name} private key 'both' must be SEQUENCE {{seed, expandedKey}}")
        expanded = parts[1].value
        if len(expanded) != expanded_size:
            raise InvalidKeyError(f"{source}: {name} expanded key: {len(expanded)} bytes, expected {expanded_size}")
        return parts[0].value, expanded
    if choice.tag == _der.OCTET_STRING:
        raise InvalidKeyError(
            f"{source}: {name} private key in expandedKey-only form ({len(choice.value)} bytes): "
            f"the backend imports only the {seed_size}-byte seed; re-export the key in seed or both form"
        )
    raise InvalidKeyError(f"{source}: {name} private key: unexpected tag 0x{choice.tag:02x} at byte {choice.offset}")


def _load_seed_pkcs8(row: Algorithm, inner: bytes, source: str) -> tuple[Any, bytes, bytes | None]:
    """(key, seed, expanded key or None) of an ML-DSA / ML-KEM PKCS#8 ``privateKey`` (sizes from ``row``)."""
    name = row.name
    if name not in _SEED_CLASSES:
        raise InvalidKeyError(f"{source}: {name} is not implemented by the cryptography backend")
    cls = _SEED_CLASSES[name]
    assert row.private_key_bytes is not None  # every lattice row carries its expanded size
    seed, expanded = _seed_and_expanded(inner, name, cls.private_key_size, row.private_key_bytes, source)
    return cls.from_seed_bytes(seed), seed, expanded


def _load_mldsa_pkcs8(row: Algorithm, inner: bytes, source: str) -> Any:
    key, seed, expanded = _load_seed_pkcs8(row, inner, source)
    if expanded is not None:
        k, l_, eta = _MLDSA_PARAMETERS[row.name]
        _check_mldsa_both(row.name, k, l_, eta, seed, expanded, key.public_key().public_bytes_raw(), source)
    return key


def _load_mlkem_pkcs8(row: Algorithm, inner: bytes, source: str) -> Any:
    key, seed, dk = _load_seed_pkcs8(row, inner, source)
    name, k = row.name, _MLKEM_K[row.name]
    if dk is not None:
        ek = key.public_key().public_bytes_raw()
        # FIPS 203 Alg. 16: dk = dk_PKE ‖ ek ‖ H(ek) ‖ z
        start = 384 * k
        if dk[start : start + len(ek)] != ek:
            raise InvalidKeyError(f"{source}: {name} expanded key: embedded ek (byte {start}) does not match the seed")
        if dk[start + len(ek) : start + len(ek) + 32] != hashlib.sha3_256(ek).digest():
            raise InvalidKeyError(f"{source}: {name} expanded key: H(ek) does not match")
        if dk[-32:] != seed[32:]:
            raise InvalidKeyError(f"{source}: {name} expanded key: z does not match the seed")
    return key


def _wrap(key: object, source: str) -> Any:
    """Our key object for a key ``cryptography`` parsed (standard formats are parsed by that backend)."""
    ours = wrap_backend_key(key)
    if ours is None:
        raise InvalidKeyError(f"{source}: key type {type(key).__name__} is not one this package wraps")
    return ours


def _load_pkcs8_der(der: bytes, source: str) -> Any:
    oid, inner = _der.parse_pkcs8(der, source)
    row = _LATTICE_ROWS.get(oid)
    if row is not None:
        return (_load_mldsa_pkcs8 if row.name in _MLDSA_PARAMETERS else _load_mlkem_pkcs8)(row, inner, source)
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidKeyError(f"{source}: private key (OID {oid}) not loadable: {exc}") from None
    return _wrap(key, source)


def load_private_key(data: bytes, source: str = "<private key>") -> Any:
    """Parse a private key (PEM PKCS#8, DER PKCS#8, or qshift PEM). ``source`` names it in errors."""
    data = bytes(data)
    if data.lstrip().startswith(b"-----BEGIN"):
        for label, body in _pem_blocks(data, source):
            if label == "PRIVATE KEY":
                return _load_pkcs8_der(body, source)
            if label == QSHIFT_PRIVATE_LABEL:
                name, raw = _parse_qshift(body, source)
                return _RAW_FORMATS[name][0](raw)
        raise InvalidKeyError(f"{source}: no PRIVATE KEY or {QSHIFT_PRIVATE_LABEL} PEM block")
    return _load_pkcs8_der(data, source)


def load_public_key(data: bytes, source: str = "<public key>") -> Any:
    """Parse a public key (PEM SPKI, DER SPKI, or qshift PEM). ``source`` names it in errors."""
    data = bytes(data)
    der = data
    if data.lstrip().startswith(b"-----BEGIN"):
        for label, body in _pem_blocks(data, source):
            if label == "PUBLIC KEY":
                der = body
                break
            if label == QSHIFT_PUBLIC_LABEL:
                name, raw = _parse_qshift(body, source)
                return _RAW_FORMATS[name][1](raw)
        else:
            raise InvalidKeyError(f"{source}: no PUBLIC KEY or {QSHIFT_PUBLIC_LABEL} PEM block")
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError) as exc:
        raise InvalidKeyError(f"{source}: public key not loadable: {exc}") from None
    return _wrap(key, source)


# ---- writing ----------------------------------------------------------------------------------------


def _pem(label: str, body: bytes) -> bytes:
    encoded = base64.b64encode(body)
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    tag = label.encode()
    return b"-----BEGIN " + tag + b"-----\n" + b"\n".join(lines) + b"\n-----END " + tag + b"-----\n"


def private_key_to_pem(key: Any) -> bytes:
    """PKCS#8 PEM where a standard exists, else the qshift PEM format."""
    if key.algorithm in _RAW_FORMATS:
        return _pem(QSHIFT_PRIVATE_LABEL, _MAGIC + b"\x00" + key.algorithm.encode() + b"\x00" + key.private_bytes_raw())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def private_key_to_der(key: Any) -> bytes:
    """PKCS#8 DER (standard algorithms only)."""
    if key.algorithm in _RAW_FORMATS:
        raise InvalidKeyError(f"{key.algorithm}: no standard PKCS#8 encoding; use private_key_to_pem")
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_to_pem(key: Any) -> bytes:
    """SubjectPublicKeyInfo PEM where a standard exists, else the qshift PEM format."""
    if key.algorithm in _RAW_FORMATS:
        return _pem(QSHIFT_PUBLIC_LABEL, _MAGIC + b"\x00" + key.algorithm.encode() + b"\x00" + key.public_bytes_raw())
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_to_der(key: Any) -> bytes:
    if key.algorithm in _RAW_FORMATS:
        raise InvalidKeyError(f"{key.algorithm}: no standard SPKI encoding; use public_key_to_pem")
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_path_for(private_path: Path) -> Path:
    """Where :func:`write_keypair` puts the public key: ``<private>.pub``."""
    return private_path.with_name(private_path.name + ".pub")


def write_keypair(key: Any, path: str | Path) -> tuple[Path, Path]:
    """Write ``key`` as PEM to ``path`` (mode 0600, also when the file existed) and its public key to
    ``path + ".pub"`` (0644). Returns both paths. Raises :class:`KeyFileError` naming the file."""
    private_path = Path(path)
    public_path = public_path_for(private_path)
    private_pem = private_key_to_pem(key)
    public_pem = public_key_to_pem(key.public_key())
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, private_pem)
        finally:
            os.close(fd)
        public_path.write_bytes(public_pem)
        os.chmod(public_path, 0o644)
    except OSError as exc:
        raise KeyFileError(f"{exc.filename or private_path}: cannot write key file: {exc.strerror}") from None
    return private_path, public_path


def _read(path: str | Path, load: Callable[[bytes, str], Any]) -> Any:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read key file: {exc.strerror}") from None
    return load(data, str(path))


def read_private_key(path: str | Path) -> Any:
    """Load a private key file (any form :func:`load_private_key` reads); errors name the file."""
    return _read(path, load_private_key)


def read_public_key(path: str | Path) -> Any:
    """Load a public key file (any form :func:`load_public_key` reads); errors name the file."""
    return _read(path, load_public_key)
