"""QKD: physics models and emulator, detector events, Cython post-processing, key rate theory, KMS."""

from qkd.errors import QkdError

__all__ = ["QkdError"]
