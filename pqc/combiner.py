"""Key combiner: session keys from an ordered list of (label, secret) inputs bound to a transcript.

Construction (CatKDF shape of ETSI TS 103 744 V1.1.1 §8.2.4; concatenation per NIST SP 800-56C r2 §2,
"Z' = Z ‖ T" with the approved secret Z first; HKDF per RFC 5869, the backend registry's ``kdf``)::

    IKM  = s_1 ‖ s_2 ‖ … ‖ s_n                         (the caller puts the approved PQ secret first)
    PRK  = HKDF-Extract(salt, IKM)                      (salt: optional, default hashLen zero bytes)
    info = "qshift-catkdf-v1"
           ‖ lp(context) ‖ lp(mode)
           ‖ u16(n) ‖ for each input i: lp(label_i) ‖ u32(len(s_i))
           ‖ u16(length)
           ‖ lp(H(transcript))
    OKM  = HKDF-Expand(PRK, info, length)

``lp(x) = u16(len(x)) ‖ x`` (big-endian), labels/context/mode UTF-8. Because every field is length-prefixed
the info string is an injective encoding of (context, mode, labels, secret lengths, length, transcript
hash), so two calls that differ in any of these feed HKDF-Expand different inputs, and two calls with the
same info but different secrets feed it different PRKs: the outputs are independent PRF outputs. In
particular a PQC-only derivation (mode ``"pqc-only"``, inputs ``[("ml-kem", …)]``) can never equal a hybrid
one with the QKD part missing: mode and label list both differ. The output stays secret as long as any one
input secret is (HMAC as a PRF keyed by the concatenation, cf. Bindel et al.,
"Hybrid key encapsulation mechanisms and authenticated key exchange", PQCrypto 2019, and the rationale of
ETSI TS 103 744 §8.2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pqc.backends.base import KdfAlgorithm
from pqc.backends.by_name import kdf
from pqc.errors import PqcError

DOMAIN = b"qshift-catkdf-v1"
#: the combiner's hashes (catalogue names)
HASHES = ("SHA-256", "SHA-384", "SHA-512", "SHA3-256", "SHA3-384", "SHA3-512")


class CombinerError(PqcError, ValueError):
    """Invalid combiner input: empty or duplicate label, empty secret, bad length or hash name."""


def _lp(data: bytes, what: str) -> bytes:
    if len(data) > 0xFFFF:
        raise CombinerError(f"combiner {what}: {len(data)} bytes exceeds 65535")
    return len(data).to_bytes(2, "big") + data


def transcript_hash(transcript: bytes, hash_name: str = "SHA-256") -> bytes:
    """H(transcript) with the combiner's hash."""
    return hashlib.new(_hash(hash_name)[1], transcript).digest()


def _hash(hash_name: str) -> tuple[str, str]:
    """(the HKDF over ``hash_name`` as the backend registry names it, the hashlib name of the hash)."""
    if hash_name not in HASHES:
        raise CombinerError(f"combiner hash {hash_name!r}: expected one of {sorted(HASHES)}")
    bare = hash_name.replace("SHA-", "SHA")          # SHA-256 -> SHA256, SHA3-256 unchanged
    return "HKDF-" + bare, bare.lower().replace("-", "_")


def build_info(
    labels_and_sizes: Sequence[tuple[str, int]], *, mode: str, transcript: bytes, context: str, length: int,
    hash_name: str = "SHA-256",
) -> bytes:
    """The HKDF info string of the module docstring (exposed so tests and peers can check it)."""
    if not mode:
        raise CombinerError("combiner mode: empty")
    if not context:
        raise CombinerError("combiner context: empty")
    info = bytearray(DOMAIN)
    info += _lp(context.encode(), "context")
    info += _lp(mode.encode(), "mode")
    info += len(labels_and_sizes).to_bytes(2, "big")
    for label, size in labels_and_sizes:
        info += _lp(label.encode(), f"label {label!r}")
        info += size.to_bytes(4, "big")
    info += length.to_bytes(2, "big")
    info += _lp(transcript_hash(transcript, hash_name), "transcript hash")
    return bytes(info)


def derive_session_keys(
    inputs: Sequence[tuple[str, bytes | bytearray]],
    *,
    mode: str,
    transcript: bytes,
    context: str,
    length: int,
    hash_name: str = "SHA-256",
    salt: bytes | None = None,
) -> bytes:
    """Derive ``length`` bytes from ordered ``(label, secret)`` inputs (approved PQ secret first).

    ``mode`` names the key-source mode (e.g. ``"hybrid-qkd"``, ``"pqc-only"``), ``context`` the protocol
    and purpose (e.g. ``"qshift-gateway session"``), ``transcript`` the handshake bytes both sides saw.
    Raises :class:`CombinerError` on an empty input list, empty/duplicate label or empty secret.
    """
    if not inputs:
        raise CombinerError("combiner inputs: at least one (label, secret) pair is required")
    hkdf_name, hashlib_name = _hash(hash_name)
    hkdf: KdfAlgorithm = kdf(hkdf_name)
    max_length = 255 * hashlib.new(hashlib_name).digest_size
    if not 1 <= length <= max_length:
        raise CombinerError(f"combiner length: {length} bytes, expected 1..{max_length} for {hash_name}")
    seen: set[str] = set()
    sizes: list[tuple[str, int]] = []
    for position, (label, secret) in enumerate(inputs):
        if not label:
            raise CombinerError(f"combiner input {position}: empty label")
        if label in seen:
            raise CombinerError(f"combiner input {position}: duplicate label {label!r}")
        if not secret:
            raise CombinerError(f"combiner input {position} ({label!r}): empty secret")
        seen.add(label)
        sizes.append((label, len(secret)))
    ikm = bytearray()
    try:
        for _, secret in inputs:
            ikm += secret
        info = build_info(sizes, mode=mode, transcript=transcript, context=context, length=length, hash_name=hash_name)
        # derive() takes the bytearray itself: no immutable copy of the secrets on our side
        return hkdf.derive(ikm, length, salt=salt, info=info)
    finally:
        ikm[:] = bytes(len(ikm))
