"""Application traffic for scenarios: a real TCP sink service and rate-limited client streams.

Wire protocol (ours, for checking only): the client sends an 8-byte big-endian stream id, then the payload,
then half-closes; the sink answers the SHA-256 of the payload (32 bytes) and closes. The sink records, per
stream, the bytes and digest it saw and the longest gap between two arrivals (the stall, seconds).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import struct
import time
from dataclasses import dataclass, field

from qshift.scenario.record import StreamResult

CHUNK_BYTES = 16 * 1024


@dataclass
class _Received:
    bytes: int = 0
    digest: str = ""
    longest_gap_s: float = 0.0
    last_arrival: float | None = None
    done: bool = False


@dataclass
class SinkService:
    """TCP service at the responding site; keeps what it received per stream id."""

    server: asyncio.Server | None = None
    received: dict[int, _Received] = field(default_factory=dict)
    bytes_total: int = 0

    @property
    def address(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def start(self, host: str = "127.0.0.1") -> None:
        self.server = await asyncio.start_server(self._handle, host, 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            (stream_id,) = struct.unpack(">Q", await reader.readexactly(8))
            seen = self.received.setdefault(stream_id, _Received())
            digest = hashlib.sha256()
            while chunk := await reader.read(1 << 16):
                now = time.monotonic()
                if seen.last_arrival is not None:
                    seen.longest_gap_s = max(seen.longest_gap_s, now - seen.last_arrival)
                seen.last_arrival = now
                seen.bytes += len(chunk)
                self.bytes_total += len(chunk)
                digest.update(chunk)
            seen.digest = digest.hexdigest()
            seen.done = True
            writer.write(digest.digest())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def run_stream(port: int, stream_id: int, total_bytes: int, rate_bytes_per_s: int, seed: int,
                     sink: SinkService, host: str = "127.0.0.1") -> StreamResult:
    """Send ``total_bytes`` of seeded random data at ``rate_bytes_per_s`` through the listener at ``port``."""
    rng = random.Random((seed << 16) ^ stream_id)
    sent = hashlib.sha256()
    sent_bytes = 0
    error = ""
    start = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        return StreamResult(stream_id, 0, 0, sent.hexdigest(), "", 0.0, f"connect failed: {exc}")
    try:
        writer.write(struct.pack(">Q", stream_id))
        while sent_bytes < total_bytes:
            block = rng.randbytes(min(CHUNK_BYTES, total_bytes - sent_bytes))
            writer.write(block)
            sent.update(block)
            sent_bytes += len(block)
            await writer.drain()
            ahead = sent_bytes / rate_bytes_per_s - (time.monotonic() - start)
            if ahead > 0:
                await asyncio.sleep(ahead)
        writer.write_eof()
        echoed = await asyncio.wait_for(reader.readexactly(32), timeout=30)
        if echoed != sent.digest():
            error = "sink digest differs from what was sent"
    except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
        error = f"stream broken after {sent_bytes} B: {type(exc).__name__}"
    finally:
        writer.close()
    seen = sink.received.get(stream_id, _Received())
    return StreamResult(stream_id, sent_bytes, seen.bytes, sent.hexdigest(), seen.digest, seen.longest_gap_s, error)
