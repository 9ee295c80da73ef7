"""The typed look-ups by name: ``kem("ML-KEM-768")``, ``signature(…)``, ``key_agreement(…)``, ``aead(…)``,
``mac(…)``, ``kdf(…)``, ``hash_algorithm(…)`` — each the registry's implementation of the name
(:func:`pqc.backends.registry.implementation`, first available backend or the one named with
``backend=``), refused with :class:`~pqc.errors.UnknownAlgorithmError` when it is another primitive.

>>> kem("ML-KEM-768").generate().public_key().encapsulate()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pqc.backends.base import AeadAlgorithm, HashAlgorithm, KdfAlgorithm, KeyAlgorithm, MacAlgorithm
from pqc.backends.registry import implementation
from pqc.errors import UnknownAlgorithmError

_Impl = TypeVar("_Impl", KeyAlgorithm, AeadAlgorithm, MacAlgorithm, KdfAlgorithm, HashAlgorithm)


class ByName(Generic[_Impl]):
    """``look_up(name, backend=None)``: the implementation of ``name`` if it is a ``kind`` of one of
    ``primitives`` (catalogue vocabulary), else :class:`UnknownAlgorithmError` naming what it is."""

    def __init__(self, kind: type[_Impl], primitives: tuple[str, ...], what: str) -> None:
        self.kind: type[_Impl] = kind
        self.primitives = primitives
        self.what = what
        self.__doc__ = f"The {what} implementation of a catalogue name or alias (``backend=`` to choose one)."

    def __call__(self, name: str, *, backend: str | None = None) -> _Impl:
        found = implementation(name, backend=backend)
        if not isinstance(found, self.kind) or found.primitive not in self.primitives:
            raise UnknownAlgorithmError(f"{found.algorithm} is a {found.primitive}, not a {self.what}")
        return found

    def __repr__(self) -> str:
        return f"<look-up of {self.what} implementations by name>"


kem = ByName(KeyAlgorithm, ("kem",), "KEM")
signature = ByName(KeyAlgorithm, ("signature",), "signature algorithm")
key_agreement = ByName(KeyAlgorithm, ("key-agree",), "key-agreement algorithm")
aead = ByName(AeadAlgorithm, ("ae",), "AEAD")
mac = ByName(MacAlgorithm, ("mac",), "MAC")
kdf = ByName(KdfAlgorithm, ("kdf",), "KDF")
hash_algorithm = ByName(HashAlgorithm, ("hash",), "hash")
#: what the family classes (:mod:`pqc.key_interface`) ask for: any KEM, signature or key agreement
key_algorithm = ByName(KeyAlgorithm, ("kem", "signature", "key-agree"), "key algorithm")
