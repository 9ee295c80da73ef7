"""Cascade kernels: the same seed discloses exactly what it disclosed before the kernels were rewritten for
speed, and the wire bodies of a bisection round encode the same questions and answers as the array API."""

from __future__ import annotations

import numpy as np
import pytest

from qkd._native.cascade import AliceOracle, BobSearches
from qkd.postprocess.cascade import plan, reconcile_local, variant


def pair(n: int, qber: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed * 7 + n)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    return a, a ^ (rng.random(n) < qber).astype(np.uint8)


# (variant, QBER, n, seed) -> (disclosed bits, round trips, corrections, passes), recorded with the kernels
# of commit 3f37502 (byte arrays, per-round numpy questions, per-position known-node words). The rewrite
# (packed bits, wire-body rounds, heap-numbered known-node trees, pooled buffers) must ask the same parities.
PINNED = {
    ("option7", 0.02, 100_000, 0): (14945, 223, 2037, 14),
    ("option7", 0.02, 10_007, 0): (1576, 168, 209, 14),
    ("option8", 0.05, 10_007, 1): (3067, 168, 483, 14),
    ("original", 0.11, 10_007, 2): (6285, 44, 1120, 4),
    ("yanetal", 0.005, 10_007, 0): (419, 44, 42, 10),
    ("biconf", 0.02, 10_007, 1): (1390, 90, 176, 14),
    ("option3", 0.05, 1000, 2): (334, 27, 51, 16),
    ("option4", 0.11, 10_007, 0): (5568, 63, 1084, 16),
}


@pytest.mark.parametrize("case", sorted(PINNED))
def test_same_seed_discloses_the_same_parities_as_the_reference_kernels(case: tuple) -> None:
    name, qber, n, seed = case
    a, b = pair(n, qber, seed)
    corrected, rep = reconcile_local(a, b, qber, name, seed=seed)
    assert np.array_equal(corrected, a)
    assert (rep.disclosed_bits, rep.round_trips, rep.corrections, rep.passes) == PINNED[case]


def _opened(n: int = 20_000, qber: float = 0.03, seed: int = 4) -> tuple[AliceOracle, BobSearches]:
    a, b = pair(n, qber, seed)
    alice, bob = AliceOracle(a, seed), BobSearches(b, seed, True)
    k = plan(variant("option7", qber), qber, n)[0]
    bob.open_pass(0, k, alice.open_pass(0, k))
    return alice, bob


def test_ask_body_carries_the_questions_and_answer_wire_packs_the_array_answers() -> None:
    alice, bob = _opened()
    rounds = 0
    while body := bob.ask():
        passes, starts, ends = bob.questions()
        m = passes.size
        assert len(body) == 9 * m
        assert body[:m] == passes.tobytes()
        assert np.array_equal(np.frombuffer(body, ">u4", m, m), starts)
        assert np.array_equal(np.frombuffer(body, ">u4", m, 5 * m), ends)
        wire = alice.answer_wire(body)
        plain = alice.answer(passes, starts, ends)
        assert wire == np.packbits(plain, bitorder="little").tobytes()
        bob.take_answers(wire)
        rounds += 1
    assert rounds >= 3 and bob.ask() == b""


def test_a_malformed_ask_or_answer_body_is_refused_by_name() -> None:
    alice, bob = _opened()
    body = bob.ask()
    with pytest.raises(ValueError, match="not 9 bytes per question"):
        alice.answer_wire(body[:-1])
    bad = bytearray(body)
    m = len(body) // 9
    bad[5 * m:5 * m + 4] = (10**9).to_bytes(4, "big")      # first question's end far beyond the key
    with pytest.raises(ValueError, match="parity question 0: range"):
        alice.answer_wire(bytes(bad))
    bad = bytearray(body)
    bad[0] = 9                                               # a pass that was never opened
    with pytest.raises(ValueError, match="names pass 9, not opened"):
        alice.answer_wire(bytes(bad))
    with pytest.raises(ValueError, match="answer bytes for"):
        bob.take_answers(alice.answer_wire(body) + b"\0")


def test_many_blocks_in_a_row_reuse_buffers_without_changing_results() -> None:
    # the pass buffers are pooled across blocks: a block must not see the previous block's state
    a, b = pair(50_000, 0.02, 1)
    first = reconcile_local(a, b, 0.02, "option7", seed=9)[1]
    for s in range(3):                                       # other blocks of other lengths in between
        x, y = pair(40_000 + 77 * s, 0.04, s)
        assert np.array_equal(reconcile_local(x, y, 0.04, "default", seed=s)[0], x)
    again = reconcile_local(a, b, 0.02, "option7", seed=9)[1]
    assert (again.disclosed_bits, again.round_trips, again.corrections) == \
        (first.disclosed_bits, first.round_trips, first.corrections)



def test_alice_refuses_a_malformed_ask_frame_with_a_cascade_error() -> None:
    import asyncio
    import struct

    from qkd.postprocess.cascade import CascadeError, reconcile_alice
    from qkd.postprocess.channel import in_process_pair

    a, _ = pair(5000, 0.02, 3)

    async def run() -> None:
        ca, cb = in_process_pair()
        start = struct.pack(">QIB16s", 7, 5000, 1, b"option7".ljust(16, b"\0")) + struct.pack(">I", 64)
        await cb.send("cascade.start", start)
        await cb.send("cascade.open", struct.pack(">III", 0, 1, 64))
        await cb.send("cascade.ask", b"\0" * 10)           # not 9 bytes per question
        await reconcile_alice(ca, a)

    with pytest.raises(CascadeError, match="malformed cascade.ask from Bob: .*9 bytes per question"):
        asyncio.run(run())
