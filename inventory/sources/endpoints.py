"""What :mod:`inventory.sources.live_tls` and :mod:`inventory.sources.live_ssh` share: one connection to an
endpoint (:func:`connection`), and probing many endpoints at once, where an endpoint that cannot be reached
becomes a skipped input with its reason, never the end of the scan (:func:`probe_each`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from inventory.errors import EndpointError
from inventory.model import Skipped, SourceResult


@contextlib.asynccontextmanager
async def connection(host: str, port: int, timeout: float,
                     where: str) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """A TCP connection to ``host:port`` opened within ``timeout`` seconds (else :class:`EndpointError` naming
    ``where``), closed when the block is left."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError) as exc:
        raise EndpointError(where, f"connect failed: {exc}") from None
    try:
        yield reader, writer
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ConnectionError):
            pass  # the peer reset a connection we were done with: nothing was lost


#: Probe one endpoint: (host, port, timeout in seconds) → its findings; raises :class:`EndpointError`.
Probe = Callable[[str, int, float], Awaitable[SourceResult]]


async def probe_each(probe: Probe, endpoints: list[tuple[str, int]], timeout: float, at_once: int) -> SourceResult:
    """Run ``probe`` over ``endpoints``, at most ``at_once`` at a time (``timeout``: seconds per probe)."""
    sem = asyncio.Semaphore(at_once)

    async def one(host: str, port: int) -> SourceResult:
        async with sem:
            try:
                return await probe(host, port, timeout)
            except EndpointError as exc:
                r = SourceResult()
                r.skipped.append(Skipped(exc.endpoint, exc.reason))
                return r

    total = SourceResult()
    for r in await asyncio.gather(*(one(h, p) for h, p in endpoints)):
        total.extend(r)
    return total
