"""Heavy compiled steps of a block off the event loop, so that one link end uses more than one core.

A link end runs its blocks in flight as tasks of one event loop (:mod:`qkd.runtime`). The O(n) kernels of a
block — a Cascade pass's shuffle and layout, the Toeplitz hash of privacy amplification — run with the GIL
released (``with nogil`` in :mod:`qkd._native`), so while one block's kernel runs in a worker thread, the loop
goes on with the other blocks' messages and the peer is not kept waiting. Only steps over at least
:data:`OFFLOAD_MIN_BITS` bits move: below that the hop to a thread (~50 µs of the loop's time) costs more
than the step.

A step that moves works on its block's objects only, and its block's coroutine awaits it, so no two threads
touch one object at once. If that coroutine is cancelled, the step still finishes in its thread (a thread
cannot be interrupted) and its result is dropped with the block.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: steps over fewer bits run inline (a 2^18-bit Cascade pass layout takes ~1 ms; a thread hop ~50 µs)
OFFLOAD_MIN_BITS = 1 << 20


async def run_step(n_bits: int, step: Callable[..., T], *args: object) -> T:
    """``step(*args)``, in a worker thread of the running loop's default executor when it works on
    ``n_bits`` ≥ :data:`OFFLOAD_MIN_BITS` bits, else inline. Exceptions propagate as from a direct call."""
    if n_bits < OFFLOAD_MIN_BITS:
        return step(*args)
    return await asyncio.to_thread(step, *args)


__all__ = ["OFFLOAD_MIN_BITS", "run_step"]
