"""AEAD record protection for the gateway's data plane: per-direction keys, 64-bit sequence numbers,
nonce-reuse refusal and a sliding replay window.

* Algorithms: ``"AES-256-GCM"`` (default; NIST SP 800-38D) and ``"ChaCha20-Poly1305"`` (RFC 8439), both
  with 32-byte keys, 12-byte nonces and 16-byte tags, as the backend registry implements them
  (:func:`pqc.backends.aead`; ``cryptography`` by default).
* Nonce (RFC 8446 §5.3 construction): the 64-bit sequence number, big-endian, left-padded to 12 bytes,
  XORed with a 12-byte per-direction IV. Each direction has its own key and IV (:class:`SessionKeys`).
* A :class:`Sealer` numbers records 0, 1, 2, … itself (callers cannot choose a sequence number, so cannot
  repeat one); at 2**64 records, or the configured ``max_records``, it raises
  :class:`~pqc.errors.SequenceExhaustedError`: rekey. Building a second :class:`Sealer` on a (key, IV)
  already used in this process raises :class:`~pqc.errors.NonceReuseError` (the process remembers a keyed
  fingerprint, never the key).
* An :class:`Opener` authenticates first, then checks and updates a sliding window of ``window`` sequence
  numbers (anti-replay of RFC 4303 §3.4.3): a repeated or too-old number raises
  :class:`~pqc.errors.ReplayError`; a forged record raises :class:`~pqc.errors.AuthenticationError` and
  leaves the window untouched. Over a transport that delivers in order (TCP),
  :meth:`Opener.open_frame_in_order` also refuses an authentic frame older than the highest accepted one
  (:class:`~pqc.errors.OutOfOrderError` when it was never accepted, ``ReplayError`` when it was).
* Frame layout of :meth:`Sealer.seal_frame`: ``u64 sequence (big-endian) ‖ ciphertext ‖ tag``; the
  sequence number is authenticated through the nonce.

Keys are held in ``bytearray`` and zeroed by :meth:`wipe`; afterwards any use raises
:class:`~pqc.errors.KeyWipedError`. (The cipher context inside OpenSSL holds its own copy, which is
released, not zeroed by us, when the object is dropped.)
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from pqc.backends.base import AeadAlgorithm
from pqc.backends.by_name import aead as aead_implementation
from pqc.errors import (
    AeadError,
    AuthenticationError,
    FrameError,
    KeyWipedError,
    NonceReuseError,
    OutOfOrderError,
    ReplayError,
    SequenceExhaustedError,
)

AES_256_GCM = "AES-256-GCM"
CHACHA20_POLY1305 = "ChaCha20-Poly1305"
#: the AEADs this framing takes (32-byte keys, 12-byte nonces, 16-byte tags), implemented by the backends
ALGORITHMS: tuple[str, ...] = (AES_256_GCM, CHACHA20_POLY1305)
KEY_SIZE = 32
IV_SIZE = 12
TAG_SIZE = 16
SEQUENCE_SIZE = 8
SEQUENCE_LIMIT = 2**64  # sequence numbers 0 .. 2**64 - 1
DEFAULT_WINDOW = 1024


class _UsedNonceSpaces:
    """Process-wide record of (key, IV) pairs a Sealer was built on, as keyed BLAKE2b fingerprints."""

    _secret: ClassVar[bytes] = secrets.token_bytes(32)
    _seen: ClassVar[set[bytes]] = set()
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def claim(cls, key: bytes | bytearray, iv: bytes) -> None:
        fingerprint = hashlib.blake2b(bytes(key) + iv, key=cls._secret, digest_size=16).digest()
        with cls._lock:
            if fingerprint in cls._seen:
                raise NonceReuseError("sealer: this (key, IV) pair already sealed records in this process; rekey")
            cls._seen.add(fingerprint)


def _check_algorithm(algorithm: str) -> AeadAlgorithm:
    """The backend's implementation of ``algorithm`` (:func:`pqc.backends.aead`), one of :data:`ALGORITHMS`."""
    if algorithm not in ALGORITHMS:
        raise AeadError(f"AEAD algorithm {algorithm!r}: expected one of {sorted(ALGORITHMS)}")
    return aead_implementation(algorithm)


class _DirectionKey:
    """Key (bytearray) + IV + the backend's cipher object for one direction (its ``encrypt``/``decrypt``
    raise :class:`AuthenticationError` on a failed tag)."""

    __slots__ = ("algorithm", "_key", "_iv", "_cipher", "_role", "tag_error")

    def __init__(self, key: bytes | bytearray, iv: bytes, algorithm: str, role: str) -> None:
        implementation = _check_algorithm(algorithm)
        if len(key) != KEY_SIZE:
            raise AeadError(f"{role} key: {len(key)} bytes, expected {KEY_SIZE}")
        if len(iv) != IV_SIZE:
            raise AeadError(f"{role} IV: {len(iv)} bytes, expected {IV_SIZE}")
        self.algorithm = algorithm
        self._role = role
        self._key: bytearray = bytearray(key)
        self._iv = int.from_bytes(iv, "big")
        # the backend's own cipher: this is the per-record path; its failed tag raises ``tag_error``
        self._cipher: Any = implementation.raw(self._key)
        self.tag_error = implementation.tag_error

    def cipher(self) -> Any:
        if self._cipher is None:
            raise KeyWipedError(f"{self._role}: key was wiped")
        return self._cipher

    def nonce(self, sequence: int) -> bytes:
        return (self._iv ^ sequence).to_bytes(IV_SIZE, "big")

    def wipe(self) -> None:
        self._key[:] = bytes(len(self._key))
        self._cipher = None

    @property
    def wiped(self) -> bool:
        return self._cipher is None


class _OneDirection:
    """What a :class:`Sealer` and an :class:`Opener` share: one direction's key, IV and cipher."""

    def __init__(self, key: bytes | bytearray, iv: bytes, algorithm: str, role: str) -> None:
        self._direction = _DirectionKey(key, iv, algorithm, role)

    @property
    def algorithm(self) -> str:
        return self._direction.algorithm

    def wipe(self) -> None:
        """Zero this direction's key; any later use raises :class:`KeyWipedError`."""
        self._direction.wipe()


class Sealer(_OneDirection):
    """Encrypts records for one direction, numbering them itself (never reusing a nonce)."""

    def __init__(
        self,
        key: bytes | bytearray,
        iv: bytes,
        *,
        algorithm: str = AES_256_GCM,
        max_records: int = SEQUENCE_LIMIT,
        initial_sequence: int = 0,
    ) -> None:
        """``max_records`` caps the sequence numbers (rekey policy); ``initial_sequence`` is for resuming."""
        if not 0 < max_records <= SEQUENCE_LIMIT:
            raise AeadError(f"sealer max_records: {max_records}, expected 1..2**64")
        if not 0 <= initial_sequence <= max_records:
            raise AeadError(f"sealer initial_sequence: {initial_sequence}, expected 0..{max_records}")
        super().__init__(key, iv, algorithm, "sealer")
        _UsedNonceSpaces.claim(key, iv)
        self._next = initial_sequence
        self._limit = max_records

    @property
    def next_sequence(self) -> int:
        """Sequence number the next record will carry."""
        return self._next

    @property
    def records_left(self) -> int:
        return self._limit - self._next

    def seal(self, plaintext: bytes, aad: bytes = b"") -> tuple[int, bytes]:
        """Encrypt one record: returns ``(sequence, ciphertext ‖ tag)``."""
        cipher = self._direction.cipher()
        sequence = self._next
        if sequence >= self._limit:
            raise SequenceExhaustedError(
                f"sealer: {self._limit} records sealed under this key (sequence {sequence}); rekey"
            )
        self._next = sequence + 1  # advance before encrypting: a failure never leaves the nonce reusable
        return sequence, cipher.encrypt(self._direction.nonce(sequence), plaintext, aad)

    def seal_frame(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        """Encrypt one record as a frame ``u64 sequence ‖ ciphertext ‖ tag``.

        Same checks and order as :meth:`seal`, inlined: this is the data plane's per-record path.
        """
        direction = self._direction
        cipher = direction._cipher
        if cipher is None:
            raise KeyWipedError("sealer: key was wiped")
        sequence = self._next
        if sequence >= self._limit:
            raise SequenceExhaustedError(
                f"sealer: {self._limit} records sealed under this key (sequence {sequence}); rekey"
            )
        self._next = sequence + 1  # advance before encrypting: a failure never leaves the nonce reusable
        nonce = (direction._iv ^ sequence).to_bytes(IV_SIZE, "big")
        return sequence.to_bytes(SEQUENCE_SIZE, "big") + cipher.encrypt(nonce, plaintext, aad)

    def __repr__(self) -> str:
        state = "wiped" if self._direction.wiped else f"next={self._next}"
        return f"<Sealer {self.algorithm} {state}>"


class ReplayWindow:
    """Sliding anti-replay window over 64-bit sequence numbers (RFC 4303 §3.4.3, bitmap form).

    Bit ``i`` of the bitmap records whether ``highest - i`` was accepted.
    """

    __slots__ = ("size", "_highest", "_bitmap", "_mask")

    def __init__(self, size: int = DEFAULT_WINDOW) -> None:
        if size < 1:
            raise AeadError(f"replay window size: {size}, expected >= 1")
        self.size = size
        self._highest = -1
        self._bitmap = 0
        self._mask = (1 << size) - 1

    @property
    def highest(self) -> int:
        """Highest accepted sequence number (−1 before the first)."""
        return self._highest

    def check(self, sequence: int) -> None:
        """Raise :class:`ReplayError` if ``sequence`` was accepted already or is left of the window."""
        if not 0 <= sequence < SEQUENCE_LIMIT:
            raise ReplayError(f"sequence {sequence} outside 0..2**64-1")
        if sequence > self._highest:
            return
        offset = self._highest - sequence
        if offset >= self.size:
            raise ReplayError(
                f"sequence {sequence} is older than the replay window (highest {self._highest}, window {self.size})"
            )
        if (self._bitmap >> offset) & 1:
            raise ReplayError(f"sequence {sequence} was already accepted")

    def accept(self, sequence: int) -> None:
        """Mark ``sequence`` accepted (call only after :meth:`check` and authentication)."""
        if sequence > self._highest:
            shift = sequence - self._highest
            self._bitmap = ((self._bitmap << shift) | 1) & self._mask if shift < self.size else 1
            self._highest = sequence
        else:
            self._bitmap |= 1 << (self._highest - sequence)


class Opener(_OneDirection):
    """Decrypts records for one direction, rejecting forgeries and replays."""

    def __init__(
        self, key: bytes | bytearray, iv: bytes, *, algorithm: str = AES_256_GCM, window: int = DEFAULT_WINDOW
    ) -> None:
        super().__init__(key, iv, algorithm, "opener")
        self._window = ReplayWindow(window)

    @property
    def window(self) -> ReplayWindow:
        return self._window

    def open(self, sequence: int, ciphertext: bytes, aad: bytes = b"") -> bytes:
        """Authenticate and decrypt the record numbered ``sequence``; then mark it seen."""
        cipher = self._direction.cipher()
        self._window.check(sequence)
        try:
            plaintext = cipher.decrypt(self._direction.nonce(sequence), ciphertext, aad)
        except self._direction.tag_error:
            raise self._forged(sequence, len(ciphertext)) from None
        self._window.accept(sequence)
        return plaintext

    def _forged(self, sequence: int, size: int) -> AuthenticationError:
        return AuthenticationError(f"record {sequence}: authentication failed ({size} bytes, {self.algorithm})")

    def open_frame(self, frame: bytes, aad: bytes = b"") -> tuple[int, bytes]:
        """Open a ``u64 sequence ‖ ciphertext ‖ tag`` frame; returns ``(sequence, plaintext)``."""
        if len(frame) < SEQUENCE_SIZE + TAG_SIZE:
            raise FrameError(f"frame: {len(frame)} bytes, shorter than header + tag ({SEQUENCE_SIZE + TAG_SIZE})")
        # same steps as open(), inlined: this is the data plane's per-record path
        direction = self._direction
        cipher = direction._cipher
        if cipher is None:
            raise KeyWipedError("opener: key was wiped")
        sequence = int.from_bytes(frame[:SEQUENCE_SIZE], "big")
        window = self._window
        window.check(sequence)
        try:
            plaintext = cipher.decrypt(
                (direction._iv ^ sequence).to_bytes(IV_SIZE, "big"), frame[SEQUENCE_SIZE:], aad
            )
        except direction.tag_error:
            raise self._forged(sequence, len(frame) - SEQUENCE_SIZE) from None
        window.accept(sequence)
        return sequence, plaintext

    def open_frame_in_order(self, frame: bytes, aad: bytes = b"") -> bytes:
        """Open a frame of a transport that delivers in order (TCP); returns the plaintext.

        A frame numbered above the highest accepted one opens as with :meth:`open_frame`. Any other is
        authenticated first, the window untouched, so a forgery is an :class:`AuthenticationError`
        whatever number it carries; an authentic one is then refused: :class:`ReplayError` when the
        window holds it (or it is older than the window), :class:`OutOfOrderError` when it does not.
        """
        sequence = int.from_bytes(frame[:SEQUENCE_SIZE], "big")
        window = self._window
        if sequence > window.highest:
            return self.open_frame(frame, aad)[1]
        if len(frame) < SEQUENCE_SIZE + TAG_SIZE:
            raise FrameError(f"frame: {len(frame)} bytes, shorter than header + tag ({SEQUENCE_SIZE + TAG_SIZE})")
        try:
            self._direction.cipher().decrypt(self._direction.nonce(sequence), frame[SEQUENCE_SIZE:], aad)
        except self._direction.tag_error:
            raise self._forged(sequence, len(frame) - SEQUENCE_SIZE) from None
        window.check(sequence)
        raise OutOfOrderError(f"record {sequence} arrived after record {window.highest}")

    def __repr__(self) -> str:
        return f"<Opener {self.algorithm} highest={self._window.highest}>"


@dataclass(frozen=True)
class SessionKeys:
    """Per-direction key and IV material: ``i2r`` = initiator → responder, ``r2i`` the reverse.

    :meth:`from_key_material` splits ``2 × (32 + 12) = 88`` bytes (e.g. the output of
    :func:`pqc.combiner.derive_session_keys` with ``length=SessionKeys.MATERIAL_SIZE``) as
    ``key_i2r ‖ key_r2i ‖ iv_i2r ‖ iv_r2i``.
    """

    key_i2r: bytearray
    key_r2i: bytearray
    iv_i2r: bytes
    iv_r2i: bytes

    MATERIAL_SIZE: ClassVar[int] = 2 * (KEY_SIZE + IV_SIZE)

    @classmethod
    def from_key_material(cls, material: bytes | bytearray | memoryview) -> SessionKeys:
        if len(material) != cls.MATERIAL_SIZE:
            raise AeadError(f"session key material: {len(material)} bytes, expected {cls.MATERIAL_SIZE}")
        k = KEY_SIZE
        return cls(
            bytearray(material[:k]),
            bytearray(material[k : 2 * k]),
            bytes(material[2 * k : 2 * k + IV_SIZE]),
            bytes(material[2 * k + IV_SIZE :]),
        )

    def wipe(self) -> None:
        self.key_i2r[:] = bytes(KEY_SIZE)
        self.key_r2i[:] = bytes(KEY_SIZE)

    def __repr__(self) -> str:
        return "<SessionKeys (redacted)>"


class AeadSession:
    """Both directions of one session: seal with our sending key, open with the peer's."""

    def __init__(
        self,
        keys: SessionKeys,
        *,
        initiator: bool,
        algorithm: str = AES_256_GCM,
        window: int = DEFAULT_WINDOW,
        max_records: int = SEQUENCE_LIMIT,
    ) -> None:
        send_key, send_iv, recv_key, recv_iv = (
            (keys.key_i2r, keys.iv_i2r, keys.key_r2i, keys.iv_r2i)
            if initiator
            else (keys.key_r2i, keys.iv_r2i, keys.key_i2r, keys.iv_i2r)
        )
        self.sealer = Sealer(send_key, send_iv, algorithm=algorithm, max_records=max_records)
        self.opener = Opener(recv_key, recv_iv, algorithm=algorithm, window=window)

    def seal_frame(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        return self.sealer.seal_frame(plaintext, aad)

    def open_frame(self, frame: bytes, aad: bytes = b"") -> tuple[int, bytes]:
        return self.opener.open_frame(frame, aad)

    def wipe(self) -> None:
        self.sealer.wipe()
        self.opener.wipe()
