"""Key objects handed to callers: the material lives in a ``bytearray`` that can be wiped, never in a repr."""

from __future__ import annotations


class DeliveredKey:
    """One key delivered by a KME (ETSI GS QKD 014 ``key_ID`` + ``key``).

    ``key_id`` is the UUID string the KME assigned; ``key`` is the key material (``bytearray``, length
    ``size_bits / 8``). ``repr``/``str`` never show the material; :meth:`wipe` zeroes it in place.
    """

    __slots__ = ("key_id", "key")

    def __init__(self, key_id: str, key: bytes | bytearray) -> None:
        self.key_id = key_id
        self.key = bytearray(key)

    @property
    def size_bits(self) -> int:
        """Key length in bits."""
        return len(self.key) * 8

    def wipe(self) -> None:
        """Overwrite the key material with zeros (best effort: Python may hold other copies)."""
        for i in range(len(self.key)):
            self.key[i] = 0

    def __repr__(self) -> str:
        return f"DeliveredKey(key_id={self.key_id!r}, size_bits={self.size_bits}, key=<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:  # identity of the key, not its secret
        return isinstance(other, DeliveredKey) and other.key_id == self.key_id

    def __hash__(self) -> int:
        return hash(self.key_id)
