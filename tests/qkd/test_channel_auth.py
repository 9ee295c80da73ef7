"""The classical channel authenticates every frame (Wegman–Carter or ML-DSA-65+Ed25519), rejects tampering,
replay and reflection, consumes pads as documented, and runs over a real aiohttp WebSocket."""

from __future__ import annotations

import asyncio
import secrets

import aiohttp
import numpy as np
import pytest
from aiohttp import web

from pqc.signatures import CompositeMLDSA65Ed25519PrivateKey
from qkd.postprocess.cascade import reconcile_alice, reconcile_bob
from qkd.postprocess.channel import (
    AuthenticationError,
    AuthKeyExhausted,
    ChannelError,
    ClassicalChannel,
    SignatureAuth,
    WegmanCarterAuth,
    accept_websocket,
    connect_websocket,
    in_process_pair,
)


class Tap:
    """A man in the middle on an in-process transport: can flip a byte or replay a frame."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.sent: list[bytes] = []
        self.flip_at: int | None = None

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)
        if self.flip_at is not None:
            b = bytearray(data)
            b[self.flip_at] ^= 1
            data = bytes(b)
        await self.inner.send_bytes(data)

    async def recv_bytes(self) -> bytes:
        return await self.inner.recv_bytes()

    async def close(self) -> None:
        await self.inner.close()


def wc_pair(n_pads: int = 8) -> tuple[ClassicalChannel, ClassicalChannel]:
    psk = secrets.token_bytes(32 + 32 * n_pads)
    return in_process_pair(WegmanCarterAuth.from_preshared(psk), WegmanCarterAuth.from_preshared(psk))


def tapped_pair(flip_at: int | None = None) -> tuple[ClassicalChannel, ClassicalChannel, Tap]:
    """A Wegman–Carter pair with a :class:`Tap` on a's outgoing frames (flipping byte ``flip_at`` if given)."""
    a, b = wc_pair()
    tap = Tap(a.transport)
    tap.flip_at = flip_at
    a.transport = tap
    return a, b, tap


async def test_frames_round_trip_and_ledgers_agree() -> None:
    a, b = wc_pair()
    await a.send("x.parities", b"\x05", disclosed_bits=3)
    assert await b.recv("x.parities") == ("x.parities", b"\x05")
    await b.send("x.reply", b"ok")
    assert (await a.recv()) == ("x.reply", b"ok")
    assert a.ledger.disclosed_bits == b.ledger.disclosed_bits == 3
    assert a.auth.bits_consumed == b.auth.bits_consumed == 256 + 2 * 128


@pytest.mark.parametrize("offset", [0, 6, 14, 20, -1])
async def test_a_flipped_bit_anywhere_in_the_frame_is_rejected(offset: int) -> None:
    a, b, tap = tapped_pair(flip_at=offset)
    await a.send("x.data", b"parity bits here", disclosed_bits=8)
    with pytest.raises(ChannelError):  # AuthenticationError, or a malformed-frame error for the magic
        await b.recv()


async def test_disclosed_bit_count_cannot_be_understated_by_an_attacker() -> None:
    a, b, tap = tapped_pair(flip_at=4 + 1 + 8 + 3)  # the last byte of the disclosed_bits field
    await a.send("x.data", b"\x01", disclosed_bits=1)
    with pytest.raises(AuthenticationError):
        await b.recv()


@pytest.mark.parametrize("to", ["receiver", "sender"], ids=["replayed", "reflected-to-its-sender"])
async def test_a_frame_sent_again_is_rejected(to: str) -> None:
    """A copy of a delivered frame is refused whether it is replayed to its receiver or reflected back to its
    sender (b's outbox is a's inbox: a would receive its own frame)."""
    a, b, tap = tapped_pair()
    await a.send("x.data", b"one")
    await b.recv()
    if to == "receiver":
        await tap.inner.send_bytes(tap.sent[0])
        with pytest.raises(AuthenticationError):
            await b.recv()
    else:
        await b.transport.send_bytes(tap.sent[0])
        with pytest.raises(AuthenticationError, match="reflection"):
            await a.recv()


async def test_pads_run_out_and_replenishing_from_distilled_key_continues_the_channel() -> None:
    a, b = wc_pair(n_pads=2)
    for _ in range(2):
        await a.send("x", b"")
        await b.recv()
    with pytest.raises(AuthKeyExhausted):
        await a.send("x", b"")
    fresh = secrets.token_bytes(64)
    a.auth.replenish(fresh[:32], fresh[32:])
    b.auth.replenish(fresh[:32], fresh[32:])
    # a's failed send consumed no pad and no sequence number
    await a.send("x", b"again")
    assert await b.recv() == ("x", b"again")


async def test_composite_signature_authentication_from_pqc() -> None:
    ka, kb = CompositeMLDSA65Ed25519PrivateKey.generate(), CompositeMLDSA65Ed25519PrivateKey.generate()
    a, b = in_process_pair(SignatureAuth(ka, kb.public_key()), SignatureAuth(kb, ka.public_key()))
    await a.send("x", b"signed", disclosed_bits=1)
    assert await b.recv() == ("x", b"signed")
    # a frame signed by a key other than the pinned one is rejected
    mallory = CompositeMLDSA65Ed25519PrivateKey.generate()
    a2, b2 = in_process_pair(SignatureAuth(mallory, kb.public_key()), SignatureAuth(kb, ka.public_key()))
    await a2.send("x", b"forged")
    with pytest.raises(AuthenticationError):
        await b2.recv()


async def test_cascade_runs_between_two_nodes_over_a_real_websocket() -> None:
    rng = np.random.default_rng(1)
    alice_bits = rng.integers(0, 2, 20_000, dtype=np.uint8)
    bob_bits = alice_bits ^ (rng.random(20_000) < 0.03).astype(np.uint8)
    psk = secrets.token_bytes(32 + 32 * 1024)
    served: dict = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ch, ws = await accept_websocket(request, WegmanCarterAuth.from_preshared(psk))
        served["disclosed"] = await reconcile_alice(ch, alice_bits)
        served["ledger"] = ch.ledger.disclosed_bits
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/qkd/channel", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            ch = await connect_websocket(session, f"http://127.0.0.1:{port}/qkd/channel",
                                         WegmanCarterAuth.from_preshared(psk))
            bits, rep = await reconcile_bob(ch, bob_bits, 0.03)
            await asyncio.sleep(0.05)
            await ch.close()
    finally:
        await runner.cleanup()
    assert np.array_equal(bits, alice_bits)
    assert rep.disclosed_bits == served["disclosed"] == served["ledger"]
