"""Node master key: AES-256-GCM encryption of key material at rest.

The master key is 32 random bytes in a file of mode 0600 (owner read/write only). :func:`load_or_create`
creates it with ``O_EXCL`` and mode 0600 if absent, and refuses a file that group or others may read, or
one of the wrong length. Every record is sealed with a fresh 96-bit nonce and associated data that binds
it to its place in the store (pool and stream offset, or key_ID and SAE pair), so that ciphertexts cannot
be swapped between rows (NIST SP 800-38D, AES-GCM with 128-bit tags).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qkd.kms.errors import KeyStoreError, MasterKeyError

MASTER_KEY_BYTES = 32
NONCE_BYTES = 12


def load_or_create(path: str | Path) -> bytes:
    """Return the 32-byte master key at ``path``, creating it (mode 0600) if the file does not exist."""
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load(p)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(MASTER_KEY_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
    return load(p)


def load(path: str | Path) -> bytes:
    """Read the master key; refuse files with group/other permission bits or of the wrong length."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MasterKeyError(f"master key file {p}: not found") from None
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise MasterKeyError(f"master key file {p}: mode {stat.S_IMODE(st.st_mode):04o}, must be 0600 "
                             "(no group/other access)")
    data = p.read_bytes()
    if len(data) != MASTER_KEY_BYTES:
        raise MasterKeyError(f"master key file {p}: {len(data)} bytes, expected {MASTER_KEY_BYTES}")
    return data


class Sealer:
    """AES-256-GCM seal/open of records under the node master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != MASTER_KEY_BYTES:
            raise MasterKeyError(f"master key has {len(master_key)} bytes, expected {MASTER_KEY_BYTES}")
        self._aead = AESGCM(master_key)

    def seal(self, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
        """Return ``(nonce, ciphertext||tag)``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce, self._aead.encrypt(nonce, plaintext, aad)

    def open(self, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        """Decrypt and authenticate; a tampered or misplaced record raises :class:`KeyStoreError`."""
        try:
            return self._aead.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise KeyStoreError(f"record {aad.decode(errors='replace')!r} failed authentication "
                                "(wrong master key or tampered store)") from None
