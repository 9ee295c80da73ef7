"""O(1) lookups over the catalogue: dict indices built once from the table.

Every name/alias (case-insensitive), OID, TLS code point, SSH name and IKE group maps to exactly
one entry; a second entry claiming the same key is a :class:`DuplicateCatalogueEntryError` when the
index is built (i.e. at import time for the module-level catalogue).

A second, *loose* name index ignores everything but letters and digits (``ML_KEM_768`` →
``mlkem768``). It is consulted only when the exact name misses, and keys that two entries share
there are left out (ambiguous), so the loose index never changes the answer of an exact match.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Iterator

from pqc.catalogue.errors import DuplicateCatalogueEntryError, InvalidCatalogueEntryError, UnknownAlgorithmError
from pqc.catalogue.model import Algorithm, Primitive, QuantumStatus
from pqc.catalogue.security import ifc_security_bits

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

#: Family spellings accepted by :meth:`CatalogueIndex.lookup_sized`.
_FAMILY_ALIASES: dict[str, str] = {
    "rsa": "RSA",
    "dsa": "DSA",
    "dh": "DH", "dhe": "DH", "ffdh": "DH", "ffdhe": "DH", "diffie-hellman": "DH", "modp": "DH",
    "aes": "AES",
    "ec": "ECDSA", "ecdsa": "ECDSA", "ecc": "ECDSA",
    "ecdh": "ECDH", "ecdhe": "ECDH",
    "ml-kem": "ML-KEM", "mlkem": "ML-KEM",
    "camellia": "Camellia",
}
# families whose unlisted sizes are computed on demand (IFC/FFC: strength from SP 800-56B).
_COMPUTED_FAMILIES = frozenset({"RSA", "DSA", "DH"})


def normalise_name(name: str) -> str:
    """Exact-match key: case-folded, surrounding whitespace removed."""
    return name.strip().casefold()


def loose_name(name: str) -> str:
    """Loose key: case-folded letters and digits only."""
    return _NOT_ALNUM.sub("", name.casefold())


def normalise_oid(oid: str) -> str:
    """Dotted OID without surrounding whitespace or an ``oid:``/``urn:oid:`` prefix."""
    text = oid.strip()
    for prefix in ("urn:oid:", "oid:", "OID."):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix):]
    return text


class CatalogueIndex:
    """Indices over a sequence of :class:`Algorithm` rows; raises on any duplicate key."""

    def __init__(self, rows: Iterable[Algorithm], sized: dict[tuple[str, int], str] | None = None) -> None:
        self._rows: tuple[Algorithm, ...] = tuple(rows)
        self._names: dict[str, Algorithm] = {}
        self._oids: dict[str, Algorithm] = {}
        self._tls_groups: dict[int, Algorithm] = {}
        self._tls_suites: dict[int, Algorithm] = {}
        self._tls_sigs: dict[int, Algorithm] = {}
        self._ssh: dict[str, Algorithm] = {}
        self._ike: dict[int, Algorithm] = {}
        self._loose: dict[str, Algorithm] = {}
        ambiguous: set[str] = set()
        for alg in self._rows:
            for name in alg.names():
                self._put(self._names, "name", normalise_name(name), alg)
                key = loose_name(name)
                other = self._loose.get(key)
                if other is not None and other is not alg:
                    ambiguous.add(key)
                self._loose.setdefault(key, alg)
            for oid in alg.oids:
                self._put(self._oids, "OID", normalise_oid(oid), alg)
            for cp in alg.tls_groups:
                self._put(self._tls_groups, "TLS group", cp, alg)
            for cp in alg.tls_cipher_suites:
                self._put(self._tls_suites, "TLS cipher suite", cp, alg)
            for cp in alg.tls_signature_schemes:
                self._put(self._tls_sigs, "TLS signature scheme", cp, alg)
            for ssh in alg.ssh_names:
                self._put(self._ssh, "SSH name", normalise_name(ssh), alg)
            for ike in alg.ike_groups:
                self._put(self._ike, "IKE group", ike, alg)
        for key in ambiguous:
            del self._loose[key]
        for ssh, alg in self._ssh.items():  # find() also answers SSH names: they must not mean two things
            named = self._names.get(ssh)
            if named is not None and named is not alg:
                raise DuplicateCatalogueEntryError("name/SSH name", ssh, named.name, alg.name)
        canonical = {a.name for a in self._rows}
        for alg in self._rows:
            for part in alg.components:
                if part not in canonical:
                    raise InvalidCatalogueEntryError(alg.name, f"component {part!r} is not a catalogue entry")
        self._sized: dict[tuple[str, int], Algorithm] = {}
        for (family, bits), name in (sized or {}).items():
            target = self._names.get(normalise_name(name))
            if target is None:
                raise InvalidCatalogueEntryError(name, f"sized entry ({family}, {bits}) names no catalogue entry")
            self._sized[(family, bits)] = target

    @staticmethod
    def _put(index: dict, kind: str, key: object, alg: Algorithm) -> None:
        other = index.get(key)
        if other is not None and other is not alg:
            raise DuplicateCatalogueEntryError(kind, key, other.name, alg.name)
        index[key] = alg

    # --- queries ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Algorithm]:
        return iter(self._rows)

    def all(self) -> tuple[Algorithm, ...]:
        """Every entry, in table order."""
        return self._rows

    def find(self, name_or_alias: str) -> Algorithm | None:
        """Entry for a canonical name, alias or SSH algorithm name (case-insensitive; then the loose
        index), else ``None``."""
        if not isinstance(name_or_alias, str):
            return None
        hit = self._names.get(normalise_name(name_or_alias))
        if hit is None:
            hit = self._ssh.get(normalise_name(name_or_alias))
        if hit is None:
            key = loose_name(name_or_alias)
            hit = self._loose.get(key) if key else None
        return hit

    def lookup(self, name_or_alias: str) -> Algorithm:
        """Like :meth:`find` but raises :class:`UnknownAlgorithmError` (with close matches) on a miss."""
        hit = self.find(name_or_alias)
        if hit is None:
            close = difflib.get_close_matches(str(name_or_alias), [a.name for a in self._rows], n=3, cutoff=0.75)
            raise UnknownAlgorithmError(name_or_alias, "name", f"did you mean {', '.join(close)}?" if close else "")
        return hit

    def by_oid(self, oid: str) -> Algorithm | None:
        """Entry for a dotted OID (key, signature, hash, cipher or KDF identifier; an ``oid:``/``urn:oid:``
        prefix is fine), or ``None``."""
        if not isinstance(oid, str):
            return None
        hit = self._oids.get(oid)  # fast path: already a bare dotted OID
        return hit if hit is not None else self._oids.get(normalise_oid(oid))

    def by_tls_group(self, code_point: int) -> Algorithm | None:
        """Entry for a TLS supported-group code point (e.g. 0x11EC), or ``None``."""
        return self._tls_groups.get(code_point)

    def by_tls_cipher_suite(self, code_point: int) -> Algorithm | None:
        """Entry for a TLS cipher-suite code point (e.g. 0x1301), or ``None``."""
        return self._tls_suites.get(code_point)

    def by_tls_signature_scheme(self, code_point: int) -> Algorithm | None:
        """Entry for a TLS SignatureScheme code point (e.g. 0x0905), or ``None``."""
        return self._tls_sigs.get(code_point)

    def by_ssh_name(self, name: str) -> Algorithm | None:
        """Entry for an SSH algorithm name (kex, host key, cipher, MAC), or ``None``."""
        return self._ssh.get(normalise_name(name)) if isinstance(name, str) else None

    def by_ike_group(self, group: int) -> Algorithm | None:
        """Entry for an IKEv2 transform-type-4 (key exchange) ID, or ``None``."""
        return self._ike.get(group)

    def lookup_sized(self, family: str, bits: int) -> Algorithm:
        """Entry for ``family`` at ``bits`` (RSA/DSA/DH modulus, AES key, EC order bits, ML-KEM set).

        ``family`` is a family name (``RSA``, ``DH``/``MODP``/``FFDHE``, ``AES``, ``EC``/``ECDSA``,
        ``ECDH`` …) or a size-less cipher-mode entry (``AES-GCM``, ``AES/CBC/PKCS5Padding``), which
        resolves to that mode at the size (``AES-256-GCM``).

        RSA, DSA and DH sizes that the table does not list are computed (:meth:`generic_size`): a new
        entry named ``RSA-<bits>`` (etc.) with the SP 800-56B strength, status ``broken-by-shor`` (or
        ``classically-broken`` below 1024 bits). It is not added to the index.
        """
        if not isinstance(bits, int) or isinstance(bits, bool) or bits <= 0:
            raise UnknownAlgorithmError(bits, "size", f"{family} key size must be a positive number of bits")
        fam = _FAMILY_ALIASES.get(family.strip().casefold())
        if fam is None:
            moded = self._sized_mode(family, bits)
            if moded is not None:
                return moded
            raise UnknownAlgorithmError(family, "family", "lookup_sized knows " + ", ".join(sorted(
                set(_FAMILY_ALIASES.values()))) + " and generic cipher modes such as AES-GCM")
        hit = self._sized.get((fam, bits))
        if hit is not None:
            return hit
        if fam in _COMPUTED_FAMILIES:
            return self._computed_size(fam, bits)
        known = sorted(b for f, b in self._sized if f == fam)
        raise UnknownAlgorithmError(f"{family}-{bits}", "size", f"{fam} sizes in the catalogue: {known}")

    def _sized_mode(self, name: str, bits: int) -> Algorithm | None:
        """``("AES-GCM", 256)`` → AES-256-GCM: a size-less mode entry refined by key size."""
        generic = self.find(name)
        if generic is None or generic.key_bits is not None or generic.mode is None:
            return None
        return self.find(f"{generic.family}-{bits}-{generic.mode}")

    def generic_size(self, family: str, bits: int) -> Algorithm:
        """A computed ``RSA-<bits>`` / ``DSA-<bits>`` / ``DH-<bits>`` entry, never a named group.

        For keys whose group is not known (a DH key of 2048 bits need not be ffdhe2048).
        """
        fam = _FAMILY_ALIASES.get(family.strip().casefold())
        if fam not in _COMPUTED_FAMILIES:
            raise UnknownAlgorithmError(family, "family", "generic sizes exist for RSA, DSA and DH")
        return self._computed_size(fam, bits)

    def _computed_size(self, family: str, bits: int) -> Algorithm:
        generic = self._names[normalise_name(family)]
        strength = ifc_security_bits(bits)
        broken = bits < 1024
        return dataclasses.replace(
            generic,
            name=f"{family}-{bits}",
            aliases=(),
            oids=(),
            ssh_names=(),
            key_bits=bits,
            public_key_bytes=(bits + 7) // 8,
            ciphertext_bytes=(bits + 7) // 8 if family == "RSA" else None,
            signature_bytes=(bits + 7) // 8 if family == "RSA" else None,
            shared_secret_bytes=(bits + 7) // 8 if family == "DH" else None,
            classical_security_bits=strength,
            quantum_security_bits=0,
            quantum_status=QuantumStatus.CLASSICALLY_BROKEN if broken else QuantumStatus.BROKEN_BY_SHOR,
            notes=f"Size not in the table; strength from the SP 800-56B Rev. 2 Appendix D formula ({strength} bits).",
        )

    def select(
        self,
        family: str | None = None,
        status: QuantumStatus | str | None = None,
        primitive: Primitive | str | None = None,
    ) -> list[Algorithm]:
        """Entries matching every given filter (family is case-insensitive)."""
        fam = family.casefold() if family else None
        st = QuantumStatus(status) if status is not None else None
        pr = Primitive(primitive) if primitive is not None else None
        return [
            a
            for a in self._rows
            if (fam is None or a.family.casefold() == fam)
            and (st is None or a.quantum_status is st)
            and (pr is None or a.primitive is pr)
        ]
