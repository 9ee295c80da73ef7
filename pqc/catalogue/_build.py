"""Row builders for :mod:`pqc.catalogue.table`: each applies the rules of :mod:`pqc.catalogue.security`.

Builders register every row in a :class:`TableBuilder` so that composites (signature schemes,
hybrids, cipher suites) can derive their figures from rows defined before them.
"""

from __future__ import annotations

from typing import Any

from pqc.catalogue.errors import InvalidCatalogueEntryError
from pqc.catalogue.model import Algorithm, Primitive, QuantumStatus
from pqc.catalogue.security import category_bits, grover_bits, weakest_status


class TableBuilder:
    """Collects rows in declaration order; ``get`` resolves a canonical name defined earlier."""

    def __init__(self) -> None:
        self.rows: list[Algorithm] = []
        self._by_name: dict[str, Algorithm] = {}

    def add(self, alg: Algorithm) -> Algorithm:
        if alg.name in self._by_name:
            raise InvalidCatalogueEntryError(alg.name, "declared twice")
        if alg.nist_category is not None and not 1 <= alg.nist_category <= 5:
            raise InvalidCatalogueEntryError(alg.name, f"NIST category {alg.nist_category} not in 1..5")
        self.rows.append(alg)
        self._by_name[alg.name] = alg
        return alg

    def get(self, name: str) -> Algorithm:
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidCatalogueEntryError(name, "used as a component before it is declared") from None

    # --- rows by security rule -------------------------------------------------------------

    def shor(self, name: str, family: str, primitive: Primitive, classical: int | None, **kw: Any) -> Algorithm:
        """Public-key scheme broken by Shor: 0 quantum bits."""
        return self.add(
            Algorithm(name, family, primitive, QuantumStatus.BROKEN_BY_SHOR, 0, classical, **kw)
        )

    def broken(
        self, name: str, family: str, primitive: Primitive, classical: int | None, quantum: int, **kw: Any
    ) -> Algorithm:
        """Classically broken: ``quantum`` is min(classical attack, quantum rule), chosen by the caller."""
        if classical is not None:
            quantum = min(quantum, classical)
        return self.add(
            Algorithm(name, family, primitive, QuantumStatus.CLASSICALLY_BROKEN, quantum, classical, **kw)
        )

    def symmetric(
        self, name: str, family: str, primitive: Primitive, classical: int, quantum: int, **kw: Any
    ) -> Algorithm:
        """Weakened by Grover (or BHT for hashes): figures computed by the caller with the rules."""
        return self.add(
            Algorithm(name, family, primitive, QuantumStatus.WEAKENED_BY_GROVER, quantum, classical, **kw)
        )

    def key_search(self, name: str, family: str, primitive: Primitive, key_bits: int, **kw: Any) -> Algorithm:
        """Symmetric cipher whose best attack is key search: k classical bits, k/2 under Grover."""
        kw.setdefault("key_bits", key_bits)
        return self.symmetric(name, family, primitive, key_bits, grover_bits(key_bits), **kw)

    def pq(self, name: str, family: str, primitive: Primitive, category: int | None, **kw: Any) -> Algorithm:
        """Post-quantum scheme: figures of its NIST category (or 128/64 when it has none)."""
        classical, quantum = category_bits(category) if category else (128, 64)
        kw.setdefault("classical_security_bits", classical)
        return self.add(
            Algorithm(
                name, family, primitive, QuantumStatus.QUANTUM_SAFE, quantum, nist_category=category, **kw
            )
        )

    def hybrid(
        self, name: str, family: str, components: tuple[str, ...], category: int | None, **kw: Any
    ) -> Algorithm:
        """Hybrid KEM/key exchange: secure while any part is, so the maximum over components."""
        parts = [self.get(c) for c in components]
        classical = max((p.classical_security_bits or 0) for p in parts)
        quantum = max(p.quantum_security_bits for p in parts)
        return self.add(
            Algorithm(
                name,
                family,
                kw.pop("primitive", Primitive.KEM),
                QuantumStatus.HYBRID,
                quantum,
                classical,
                nist_category=category,
                components=components,
                **kw,
            )
        )

    def concatenation(
        self, name: str, family: str, components: tuple[str, ...], category: int | None,
        shared_secret_bytes: int | None = None, **kw: Any,
    ) -> Algorithm:
        """A hybrid group whose shares concatenate its components' in wire order (the TLS groups of
        draft-ietf-tls-ecdhe-mlkem, the SSH hybrids): public share = the parts' public keys; answer = each
        KEM part's ciphertext, each key-agreement part's public share; sizes summed from the parts' rows
        (bytes). The secret is the parts' secrets concatenated unless the group hashes it
        (``shared_secret_bytes`` = the hash's output size)."""
        parts = [self.get(c) for c in components]

        def size(part: Algorithm, answer: bool) -> int:
            value = part.ciphertext_bytes if answer and part.primitive is Primitive.KEM else part.public_key_bytes
            if value is None:
                raise InvalidCatalogueEntryError(name, f"component {part.name} has no share size")
            return value

        secrets = [p.shared_secret_bytes for p in parts]
        if shared_secret_bytes is None:
            if None in secrets:
                raise InvalidCatalogueEntryError(name, "a component has no shared-secret size")
            shared_secret_bytes = sum(s for s in secrets if s is not None)
        return self.hybrid(
            name, family, components, category, public_key_bytes=sum(size(p, False) for p in parts),
            ciphertext_bytes=sum(size(p, True) for p in parts), shared_secret_bytes=shared_secret_bytes, **kw,
        )

    def composite(
        self, name: str, family: str, primitive: Primitive, components: tuple[str, ...], **kw: Any
    ) -> Algorithm:
        """Composite whose security is its weakest part (signature scheme, cipher suite)."""
        parts = [self.get(c) for c in components]
        status = weakest_status([p.quantum_status for p in parts])
        quantum = min(p.quantum_security_bits for p in parts)
        classicals = [p.classical_security_bits for p in parts]
        classical = None if any(c is None for c in classicals) else min(c for c in classicals if c is not None)
        return self.add(
            Algorithm(name, family, primitive, status, quantum, classical, components=components, **kw)
        )
