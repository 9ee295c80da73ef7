"""Crypto agility: the algorithm catalogue, KEM / signature / AEAD backends, hybrid KEMs, combiner.

``pqc`` imports nothing else of qshift. Other packages import only what this module re-exports.
"""

from pqc.errors import PqcError
from pqc.oqs_library import LiboqsLocation, locate_liboqs

__all__ = ["LiboqsLocation", "PqcError", "locate_liboqs"]
