"""Backends behind one interface, asked for by catalogue name.

>>> from pqc.backends import kem
>>> private = kem("ML-KEM-768").generate()
>>> shared, ciphertext = private.public_key().encapsulate()
>>> private.decapsulate(ciphertext) == shared
True

``cryptography`` (default, always present) and ``liboqs`` (optional; never imports ``oqs`` unless a
liboqs shared library is already installed). :mod:`pqc.backends.base` says what an implementation offers,
:mod:`pqc.backends.registry` which backend answers a name, :mod:`pqc.backends.by_name` the typed look-ups;
the key objects implement the family interfaces of :mod:`pqc.key_interface`.
"""

from pqc.backends.base import (
    AeadAlgorithm,
    Backend,
    BackendStatus,
    HashAlgorithm,
    Implementation,
    KdfAlgorithm,
    KeyAlgorithm,
    MacAlgorithm,
)
from pqc.backends.by_name import ByName, aead, hash_algorithm, kdf, kem, key_agreement, key_algorithm, mac, signature
from pqc.backends.registry import (
    available_algorithms,
    available_for,
    backend_names,
    canonical_name,
    get_backend,
    implementation,
    register_backend,
    statuses,
)

__all__ = [
    "AeadAlgorithm",
    "Backend",
    "BackendStatus",
    "ByName",
    "HashAlgorithm",
    "Implementation",
    "KdfAlgorithm",
    "KeyAlgorithm",
    "MacAlgorithm",
    "aead",
    "available_algorithms",
    "available_for",
    "backend_names",
    "canonical_name",
    "get_backend",
    "hash_algorithm",
    "implementation",
    "kdf",
    "kem",
    "key_agreement",
    "key_algorithm",
    "mac",
    "register_backend",
    "signature",
    "statuses",
]
