"""The backend registry: callers ask for an algorithm by catalogue name (or any catalogue alias) and get
the implementation of the first available backend that has it, or of the backend they name. The typed
look-ups (``kem``, ``signature``, ``aead`` …) are in :mod:`pqc.backends.by_name`.

Names the catalogue does not carry (this package's own constructions such as ``MLDSA65-Ed25519``,
``HKDF-SHA3-256``, or a liboqs mechanism outside the catalogue) are matched exactly, case-insensitively.
"""

from __future__ import annotations

import threading

from pqc.backends.base import Backend, BackendStatus, Implementation
from pqc.errors import BackendUnavailableError, UnknownAlgorithmError

_lock = threading.RLock()
_BACKENDS: dict[str, Backend] = {}
#: (name asked for, backend asked for) → implementation found; emptied whenever a backend is registered.
#: The family classes ask on every ``generate``/``from_*_bytes``, so the answer must be a dict hit.
_FOUND: dict[tuple[str, str | None], Implementation] = {}


def register_backend(backend: Backend) -> None:
    """Add a backend (asked after those registered before it). A name can be registered once."""
    with _lock:
        if backend.name in _BACKENDS:
            raise ValueError(f"backend {backend.name!r} is already registered")
        _BACKENDS[backend.name] = backend
        _FOUND.clear()


def _defaults() -> None:
    """Register the two built-in backends on first use (under the lock: first use may be concurrent)."""
    if _BACKENDS:
        return
    with _lock:
        if _BACKENDS:
            return
        from pqc.backends.cryptography_backend import CryptographyBackend
        from pqc.backends.liboqs_backend import LiboqsBackend

        register_backend(CryptographyBackend())
        register_backend(LiboqsBackend())


def backend_names() -> list[str]:
    _defaults()
    return list(_BACKENDS)


def get_backend(name: str) -> Backend:
    """The registered backend called ``name`` (available or not)."""
    _defaults()
    try:
        return _BACKENDS[name]
    except KeyError:
        raise UnknownAlgorithmError(f"backend {name!r}: registered are {sorted(_BACKENDS)}") from None


def statuses() -> list[BackendStatus]:
    """Availability of every registered backend, with the reason when unavailable."""
    _defaults()
    return [backend.status() for backend in _BACKENDS.values()]


def canonical_name(name: str) -> str:
    """Catalogue canonical name for ``name`` (an alias works), else ``name`` unchanged."""
    from pqc.catalogue import find

    entry = find(name)
    return entry.name if entry is not None else name


def _find_in(table: dict[str, Implementation], name: str, canonical: str) -> Implementation | None:
    hit = table.get(canonical) or table.get(name)
    if hit is not None:
        return hit
    folded = name.casefold()
    for key, value in table.items():
        if key.casefold() == folded:
            return value
    return None


def implementation(name: str, *, backend: str | None = None) -> Implementation:
    """Implementation of ``name`` from ``backend`` or from the first available backend that has it.

    Raises :class:`BackendUnavailableError` (with the backend's reason) when the named backend cannot run
    here, or when ``name`` is a catalogue algorithm that only an unavailable backend could offer;
    :class:`UnknownAlgorithmError` otherwise. Backends report their status once (both built-in ones
    cache it), so a found implementation is remembered until the next :func:`register_backend`.
    """
    found = _FOUND.get((name, backend))
    if found is None:
        found = _FOUND[(name, backend)] = _implementation(name, backend)
    return found


def _implementation(name: str, backend: str | None) -> Implementation:
    _defaults()
    canonical = canonical_name(name)
    if backend is not None:
        chosen = get_backend(backend)
        status = chosen.status()
        if not status.available:
            raise BackendUnavailableError(f"backend {backend!r} unavailable for {canonical}: {status.reason}")
        hit = _find_in(chosen.implementations(), name, canonical)
        if hit is None:
            raise UnknownAlgorithmError(f"{canonical}: not implemented by backend {backend!r}")
        return hit
    unavailable = []
    for candidate in _BACKENDS.values():
        status = candidate.status()
        if not status.available:
            unavailable.append(f"{candidate.name}: {status.reason}")
            continue
        hit = _find_in(candidate.implementations(), name, canonical)
        if hit is not None:
            return hit
    detail = f"; unavailable backends: {'; '.join(unavailable)}" if unavailable else ""
    from pqc.catalogue import find

    if unavailable and find(name) is not None:  # a catalogue algorithm an absent backend may offer
        raise BackendUnavailableError(f"{canonical}: no available backend implements it{detail}")
    raise UnknownAlgorithmError(f"{canonical}: no backend implements it{detail}")


def available_for(name: str) -> list[str]:
    """Names of the available backends implementing ``name`` (used by ``qshift pqc algorithms``)."""
    _defaults()
    canonical = canonical_name(name)
    return [
        backend.name
        for backend in _BACKENDS.values()
        if backend.status().available and _find_in(backend.implementations(), name, canonical) is not None
    ]


def available_algorithms() -> dict[str, list[str]]:
    """Every algorithm some available backend implements → the backends, in registry order."""
    _defaults()
    table: dict[str, list[str]] = {}
    for backend in _BACKENDS.values():
        if backend.status().available:
            for algorithm in backend.implementations():
                table.setdefault(algorithm, []).append(backend.name)
    return table
