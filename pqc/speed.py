"""Operations per second of every key algorithm the available backends offer (``qshift pqc bench``).

Each operation runs back to back until ``min_time_s`` of wall time has passed (at least ``min_ops``
calls); the figure is calls / elapsed seconds (``time.perf_counter``). Inputs are prepared outside the
timed loop. Results are data (:class:`SpeedResult`); the CLI renders them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from pqc.backends import KeyAlgorithm, available_algorithms, implementation

MESSAGE = b"qshift pqc bench: a 64-byte message to sign, the size of a handshake transcript hash.."


@dataclass(frozen=True)
class SpeedResult:
    algorithm: str
    backend: str
    operation: str  # keygen | encaps | decaps | sign | verify | exchange
    ops: int
    seconds: float
    ops_per_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def key_algorithms(names: Iterable[str] | None = None) -> list[KeyAlgorithm]:
    """The requested (default: every available) KEM, signature and key-agreement implementations."""
    chosen = list(names) if names else list(available_algorithms())
    found = [implementation(name) for name in chosen]
    return [a for a in found if isinstance(a, KeyAlgorithm)]


def operations(algorithm: KeyAlgorithm) -> list[tuple[str, Callable[[], object]]]:
    """The timed callables of one algorithm, inputs prepared here (outside the timed loop)."""
    private = algorithm.generate()
    public = private.public_key()
    ops: list[tuple[str, Callable[[], object]]] = [("keygen", algorithm.generate)]
    if algorithm.primitive == "kem":
        _, ciphertext = public.encapsulate()
        ops += [("encaps", public.encapsulate), ("decaps", lambda: private.decapsulate(ciphertext))]
    elif algorithm.primitive == "signature":
        signed = private.sign(MESSAGE)
        ops += [("sign", lambda: private.sign(MESSAGE)), ("verify", lambda: public.verify(signed, MESSAGE))]
    elif algorithm.primitive == "key-agree":
        peer = algorithm.generate().public_key()
        ops += [("exchange", lambda: private.exchange(peer))]
    return ops


def measure(func: Callable[[], object], min_time_s: float, min_ops: int = 3) -> tuple[int, float]:
    """Call ``func`` until ``min_time_s`` elapsed and ``min_ops`` calls made; returns (calls, seconds)."""
    count = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < min_time_s or count < min_ops:
        func()
        count += 1
        elapsed = time.perf_counter() - start
    return count, elapsed


def run(
    algorithms: list[KeyAlgorithm], min_time_s: float = 0.2, progress: Callable[[str], None] | None = None
) -> list[SpeedResult]:
    """Measure every operation of every algorithm; ``progress(label)`` is called after each one."""
    results = []
    for algorithm in algorithms:
        for operation, func in operations(algorithm):
            count, seconds = measure(func, min_time_s)
            results.append(
                SpeedResult(algorithm.algorithm, algorithm.backend, operation, count, seconds, count / seconds)
            )
            if progress is not None:
                progress(f"{algorithm.algorithm} {operation}")
    return results
