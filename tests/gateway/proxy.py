"""A real intercepting TCP proxy between two gateways that parses records and lets a test change them."""

from __future__ import annotations

import asyncio
import inspect
import struct
from collections.abc import Callable

from gateway.wire import read_record

# mutate(direction, connection_index, record_index, rtype, body) -> list of (rtype, body) to forward
# (or an awaitable of that list)
Mutator = Callable[[str, int, int, int, bytes], list[tuple[int, bytes]]]


def _encode(rtype: int, body: bytes) -> bytes:
    return struct.pack(">I", len(body) + 1) + bytes((rtype,)) + body


class InterceptingProxy:
    """Listens on loopback, connects each client to ``upstream``, passes records through ``mutate``."""

    def __init__(self, upstream_port: int, mutate: Mutator | None = None) -> None:
        self.upstream_port = upstream_port
        self.mutate = mutate
        self.port = 0
        self.connections = 0
        self.seen: list[tuple[str, int, int, int, bytes]] = []
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_all()

    def drop_all(self) -> None:
        """Cut every proxied connection (both sides see a reset)."""
        for w in self._writers:
            w.transport.abort()
        self._writers.clear()

    async def _on_client(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        index = self.connections
        self.connections += 1
        try:
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            cwriter.close()
            return
        self._writers += [cwriter, uwriter]
        await asyncio.gather(self._pipe("c2s", index, creader, uwriter), self._pipe("s2c", index, ureader, cwriter),
                             return_exceptions=True)

    async def _pipe(self, direction: str, conn: int, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter) -> None:
        count = 0
        try:
            while True:
                rtype, body = await read_record(reader)
                self.seen.append((direction, conn, count, rtype, body))
                out = [(rtype, body)] if self.mutate is None else self.mutate(direction, conn, count, rtype, body)
                if inspect.isawaitable(out):   # a mutator may act on the network before it answers
                    out = await out
                count += 1
                for t, b in out:
                    writer.write(_encode(t, b))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
