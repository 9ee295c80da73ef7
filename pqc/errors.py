"""Error hierarchy of ``pqc``: every error this package raises derives from :class:`PqcError`.

Messages name the input and the position of the fault; they never contain key material.
"""

from __future__ import annotations


class PqcError(Exception):
    """Base of all ``pqc`` errors. Messages name the input and the position of the fault."""


class UnknownAlgorithmError(PqcError, KeyError):
    """An algorithm name no backend implements (or the catalogue does not know)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "unknown algorithm"


class BackendUnavailableError(PqcError):
    """A backend was asked for but cannot run here; the message carries the reason."""


class InvalidKeyError(PqcError, ValueError):
    """Key bytes are malformed: wrong length, a coefficient out of range, bad encoding, inconsistent parts."""


class InvalidCiphertextError(PqcError, ValueError):
    """A KEM ciphertext has the wrong length for its algorithm."""


class InvalidSignatureError(PqcError):
    """A signature did not verify (or, for a composite, one of its components did not)."""


class KeyFileError(PqcError):
    """A key file cannot be read, parsed or written (names the file)."""


class AeadError(PqcError):
    """Base of the AEAD framing errors."""


class AuthenticationError(AeadError):
    """A sealed frame failed authentication (wrong key, tampered bytes, wrong associated data)."""


class ReplayError(AeadError):
    """A frame's sequence number was already accepted or is older than the replay window."""


class OutOfOrderError(AeadError):
    """An authentic frame older than the highest accepted one and never accepted, on a transport that
    delivers in order (TCP): only someone on the path can have held it back."""


class SequenceExhaustedError(AeadError):
    """The sender's sequence-number space (or its configured record limit) is used up: rekey."""


class NonceReuseError(AeadError):
    """An operation would encrypt twice under one (key, nonce) pair."""


class KeyWipedError(AeadError):
    """A key was used after :meth:`wipe`."""


class FrameError(AeadError):
    """A frame is shorter than its header or otherwise malformed."""
