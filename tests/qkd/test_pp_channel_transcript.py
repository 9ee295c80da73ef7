"""Deferred (transcript) authentication: the transcript encoding is injective, so an attacker who re-frames
the byte stream (two frames delivered as one) is caught at the checkpoint."""

from __future__ import annotations

import asyncio

from qkd.postprocess.channel import AuthenticationError, in_process_pair


class MergingTransport:
    """Wraps Alice's transport: holds her first frame and delivers it glued to the second as one frame."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.held: bytes | None = None
        self.frames = 0

    async def send_bytes(self, data: bytes) -> None:
        self.frames += 1
        if self.frames == 1:
            self.held = data
            return
        if self.frames == 2 and self.held is not None:
            data, self.held = self.held + data, None
        await self.inner.send_bytes(data)

    async def recv_bytes(self) -> bytes:
        return await self.inner.recv_bytes()

    async def close(self) -> None:
        await self.inner.close()


def test_two_frames_delivered_as_one_fail_the_transcript_checkpoint() -> None:
    async def run() -> bytes:
        alice, bob = in_process_pair(deferred=True)
        alice.transport = MergingTransport(alice.transport)
        await alice.send("amplify.seed", b"\x01" * 24)
        await alice.send("block.note", b"\x02" * 8)
        _, body = await bob.recv("amplify.seed")       # Bob reads one (longer) seed frame
        results = await asyncio.gather(alice.checkpoint(), bob.checkpoint(), return_exceptions=True)
        assert any(isinstance(r, AuthenticationError) for r in results), results
        return body

    body = asyncio.run(run())
    assert len(body) > 24   # the re-framed body Bob acted on differs from what Alice sent


def test_an_untouched_transcript_passes_the_checkpoint() -> None:
    async def run() -> None:
        alice, bob = in_process_pair(deferred=True)
        await alice.send("amplify.seed", b"\x01" * 24)
        await alice.send("block.note", b"\x02" * 8)
        assert (await bob.recv("amplify.seed"))[1] == b"\x01" * 24
        assert (await bob.recv("block.note"))[1] == b"\x02" * 8
        await asyncio.gather(alice.checkpoint(), bob.checkpoint())

    asyncio.run(run())
