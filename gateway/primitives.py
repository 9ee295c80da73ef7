"""Where the handshake touches ``pqc``: X-Wing, composite signatures, the combiner, the split of the key
material, the one-shot sealed box. (Records are protected in :mod:`gateway.record`, keys for other
protocols are exported in :mod:`gateway.keys`; all three import only the ``pqc`` surface.)

Thin adapters, no cryptography of our own: each function calls the ``pqc`` API and converts its errors
into gateway errors that name the input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.errors import GatewayConfigError, ProtocolError
from pqc import (
    AES_256_GCM,
    CompositeMLDSA65Ed25519PrivateKey,
    CompositeMLDSA65Ed25519PublicKey,
    Opener,
    PqcError,
    Sealer,
    SessionKeys,
    XWingPrivateKey,
    XWingPublicKey,
    derive_session_keys,
    read_private_key,
    read_public_key,
)

COMBINER_CONTEXT_PREFIX = "qshift-gateway/1 session "
#: Both directions' AEAD keys and IVs at the head of the handshake's key material (88 bytes).
KEY_MATERIAL_BYTES = SessionKeys.MATERIAL_SIZE


# -- X-Wing (draft-connolly-cfrg-xwing-kem) ----------------------------------------------------------
def xwing_generate() -> XWingPrivateKey:
    return XWingPrivateKey.generate()


def xwing_public_bytes(private: XWingPrivateKey) -> bytes:
    return private.public_key().public_bytes_raw()


def xwing_encapsulate(public_bytes: bytes) -> tuple[bytearray, bytes]:
    """(shared secret, ciphertext) for a peer's X-Wing public key; the secret is an erasable bytearray."""
    return XWingPublicKey.from_public_bytes(public_bytes).encapsulate()


def xwing_decapsulate(private: XWingPrivateKey, ciphertext: bytes) -> bytearray:
    """The shared secret (an erasable bytearray)."""
    return private.decapsulate(ciphertext)


def xwing_wipe(private: XWingPrivateKey | None) -> None:
    """Erase an ephemeral X-Wing key's seed once it has decapsulated (or will not)."""
    if private is not None:
        private.wipe()


# -- combiner (ETSI TS 103 744 CatKDF shape) -----------------------------------------------------------
def combine(mode: str, inputs: list[tuple[str, bytes | bytearray]], *, transcript: bytes, context: bytes,
            length: int) -> bytearray:
    """Session key bytes from the ordered secrets (X-Wing first, the approved PQ secret)."""
    out = derive_session_keys(inputs, mode=mode, transcript=transcript,
                              context=COMBINER_CONTEXT_PREFIX + context.decode(), length=length)
    return bytearray(out)   # the ``bytes`` that pqc returns is dropped here; this copy is wiped by the caller


# -- composite signatures (ML-DSA-65 + Ed25519) ----------------------------------------------------------
def _load_key(read: Callable[[str], Any], path: str, what: str, expected: type, kind: str) -> Any:
    """The key ``read`` finds in the PEM file ``path``, which must be an MLDSA65-Ed25519 ``kind`` key."""
    try:
        key = read(path)
    except PqcError as exc:
        raise GatewayConfigError(f"{what}: {exc}") from None
    if not isinstance(key, expected):
        raise GatewayConfigError(f"{what}: {path} holds a {type(key).__name__}, expected an MLDSA65-Ed25519 "
                                 f"composite {kind} key")
    return key


def load_signing_key(path: str, what: str) -> CompositeMLDSA65Ed25519PrivateKey:
    """This site's composite private key (PEM written by ``qshift pqc keygen``)."""
    key: CompositeMLDSA65Ed25519PrivateKey = _load_key(read_private_key, path, what,
                                                        CompositeMLDSA65Ed25519PrivateKey, "private")
    return key


def load_public_key(path: str, what: str) -> CompositeMLDSA65Ed25519PublicKey:
    """A peer's pinned composite public key (PEM)."""
    key: CompositeMLDSA65Ed25519PublicKey = _load_key(read_public_key, path, what,
                                                       CompositeMLDSA65Ed25519PublicKey, "public")
    return key


SIGNATURE_CONTEXT = b"qshift-gateway/1"


def sign(private: Any, message: bytes) -> bytes:
    """Composite ML-DSA-65 + Ed25519 signature over ``message`` (context ``qshift-gateway/1``)."""
    return private.sign(message, context=SIGNATURE_CONTEXT)


def verify(public: Any, signature: bytes, message: bytes) -> bool:
    """True when both components verify; False for any malformed or wrong signature."""
    try:
        public.verify(signature, message, context=SIGNATURE_CONTEXT)
    except (PqcError, ValueError):
        return False
    return True


# -- one-shot sealed box (the QKD key_ID inside Finish) --------------------------------------------------------
_BOX_IV = bytes(12)


def seal_box(key: bytes | bytearray, aad: bytes, plaintext: bytes) -> bytes:
    """AES-256-GCM under a key used for this one message only (fixed IV, sequence 0)."""
    sealer = Sealer(key, _BOX_IV, algorithm=AES_256_GCM)
    try:
        return sealer.seal_frame(plaintext, aad)
    finally:
        sealer.wipe()


def open_box(key: bytes | bytearray, aad: bytes, box: bytes) -> bytes:
    """Open :func:`seal_box`'s output; :class:`ProtocolError` when it does not authenticate."""
    opener = Opener(key, _BOX_IV, algorithm=AES_256_GCM, window=1)
    try:
        return opener.open_frame(box, aad)[1]
    except PqcError as exc:
        raise ProtocolError(f"sealed box does not open ({type(exc).__name__})") from None
    finally:
        opener.wipe()


def split_key_material(okm: bytearray, *, initiator: bool) -> tuple[bytearray, bytearray, bytes, bytes]:
    """(send key, receive key, send IV, receive IV) of one side from the first 88 bytes of ``okm``, laid
    out as :meth:`pqc.aead.SessionKeys.from_key_material` reads them (key_i2r ‖ key_r2i ‖ iv_i2r ‖ iv_r2i);
    read through a view, so no unwiped copy of the keys is left behind."""
    keys = SessionKeys.from_key_material(memoryview(okm)[:KEY_MATERIAL_BYTES])
    if initiator:
        return keys.key_i2r, keys.key_r2i, keys.iv_i2r, keys.iv_r2i
    return keys.key_r2i, keys.key_i2r, keys.iv_r2i, keys.iv_i2r
