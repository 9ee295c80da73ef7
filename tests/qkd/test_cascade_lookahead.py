"""Cascade look-ahead (``BobSearches.set_lookahead``): rounds with few running bisections ask several levels at
once. It must correct exactly what one level a round corrects, spend no more extra questions than its budget,
ask only ranges of the searches' own subtrees, and be counted bit for bit in both ends' ledgers."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from qkd._native.cascade import AliceOracle, BobSearches
from qkd.postprocess.cascade import (
    LOOKAHEAD_COST,
    binary_entropy,
    plan,
    reconcile_alice,
    reconcile_bob,
    reconcile_local,
    variant,
)
from qkd.postprocess.channel import in_process_pair
from tests.qkd.bsc import bsc_pair


def _run(a: np.ndarray, b: np.ndarray, p: float, seed: int, budget: int) -> tuple[BobSearches, int, int, list[int]]:
    """Both ends of the default variant's passes; returns (Bob, rounds, questions, questions per round)."""
    v = variant("default", p)
    alice = AliceOracle(a, seed)
    bob = BobSearches(b, seed, v.sub_block_reuse)
    if budget:
        bob.set_lookahead(budget, 8, 64, 5)
    rounds = questions = 0
    per_round = []
    for j, k in enumerate(plan(v, p, a.size)):
        bob.open_pass(j, k, alice.open_pass(j, k))
        while body := bob.ask():
            rounds += 1
            questions += len(body) // 9
            per_round.append(len(body) // 9)
            bob.take_answers(alice.answer_wire(body))
    return bob, rounds, questions, per_round


def test_lookahead_corrects_the_same_key_in_fewer_rounds_within_its_budget() -> None:
    n, p = 1_600_000, 0.01
    a, b = bsc_pair(n, p, 21)
    plain, rounds0, questions0, _ = _run(a, b, p, 5, 0)
    budget = int(0.005 * n * binary_entropy(p))
    ahead, rounds1, questions1, per_round = _run(a, b, p, 5, budget)
    assert np.array_equal(plain.bits, a) and np.array_equal(ahead.bits, a)
    assert plain.lookahead_spent == 0
    assert 0 < ahead.lookahead_spent <= budget
    assert rounds1 < rounds0 - 20, (rounds0, rounds1)
    assert max(per_round[-40:]) <= 64               # the look-ahead rounds stay within their question bound
    # every extra question is one Alice answered: the disclosed count grows by exactly what was spent
    assert questions1 - questions0 <= ahead.lookahead_spent + 200   # the paths differ after the first look-ahead


def test_without_a_budget_the_questions_are_the_published_one_level_ones() -> None:
    a, b = bsc_pair(200_000, 0.02, 3)
    alice = AliceOracle(a, 9)
    one, other = BobSearches(b, 9, True), BobSearches(b, 9, True)
    other.set_lookahead(0, 8, 64, 5)
    for j, k in enumerate((64, 256)):
        par = alice.open_pass(j, k)
        one.open_pass(j, k, par)
        other.open_pass(j, k, par)
        while body := one.ask():
            passes, starts, ends = one.questions()
            m = len(body) // 9
            assert other.ask() == body and m == passes.size
            assert np.frombuffer(body[m:5 * m], ">u4").tolist() == starts.tolist()
            answer = alice.answer_wire(body)
            one.take_answers(answer)
            other.take_answers(answer)
    assert np.array_equal(one.bits, other.bits)


def test_lookahead_questions_are_the_left_halves_of_each_searchs_subtree() -> None:
    a, b = bsc_pair(102_400, 0.01, 4)                  # 800 whole blocks of 128 bits
    alice = AliceOracle(a, 2)
    bob = BobSearches(b, 2, True)
    bob.set_lookahead(10_000, 1_000_000, 1_000_000, 3)   # every round looks 3 levels ahead (budget allowing)
    parities = alice.open_pass(0, 128)
    bob.open_pass(0, 128, parities)
    passes, starts, _ = bob.questions()                 # one search per odd block, from the block's start
    body = bob.ask()
    m = passes.size
    q = len(body) // 9
    assert q == 7 * m                                   # 128-bit blocks: 3 levels, 2^3 − 1 questions each
    qs = np.frombuffer(body[q:5 * q], ">u4").reshape(m, 7)
    qe = np.frombuffer(body[5 * q:], ">u4").reshape(m, 7)
    for i in range(m):
        s = int(starts[i])                              # a whole 128-bit block
        mid = s + 64
        assert (qs[i, 0], qe[i, 0]) == (s, mid)         # node 1: the block's left half
        assert (qs[i, 1], qe[i, 1]) == (s, s + 32)      # node 2 (left half of the block): its left quarter
        assert (qs[i, 2], qe[i, 2]) == (mid, mid + 32)  # node 3 (right half)
        assert [int(x) for x in qe[i, 3:] - qs[i, 3:]] == [16, 16, 16, 16]
    flips = bob.take_answers(alice.answer_wire(body))
    assert flips == 0 and bob.lookahead_spent == 6 * m   # 3 of 7 levels' steps taken, no range down to a bit yet
    while body := bob.ask():
        bob.take_answers(alice.answer_wire(body))
    errors_left = int(np.count_nonzero(bob.bits != a))
    one_level = BobSearches(b, 2, True)
    one_level.open_pass(0, 128, parities)
    while body := one_level.ask():
        one_level.take_answers(alice.answer_wire(body))
    assert errors_left == int(np.count_nonzero(one_level.bits != a))   # pass 0 alone: the same errors corrected


def test_answers_for_the_wrong_number_of_questions_are_refused() -> None:
    a, b = bsc_pair(20_000, 0.02, 1)
    alice = AliceOracle(a, 3)
    bob = BobSearches(b, 3, True)
    bob.set_lookahead(1_000, 1_000, 1_000, 2)
    bob.open_pass(0, 64, alice.open_pass(0, 64))
    body = bob.ask()
    with pytest.raises(ValueError, match="answer bytes"):
        bob.take_answers(b"\0" * ((len(body) // 9 + 7) // 8 + 1))


@pytest.mark.parametrize("args", [(-1, 8, 64, 4), (10, -1, 64, 4), (10, 8, 64, 0), (10, 8, 64, 9)])
def test_invalid_lookahead_settings_are_refused(args: tuple[int, int, int, int]) -> None:
    bob = BobSearches(np.zeros(100, np.uint8), 1, True)
    with pytest.raises(ValueError, match="look-ahead"):
        bob.set_lookahead(*args)


def test_the_default_variant_looks_ahead_on_long_keys_and_both_ledgers_count_it() -> None:
    n, p = 400_000, 0.01
    a, b = bsc_pair(n, p, 6)

    async def run() -> tuple:
        ca, cb = in_process_pair()
        alice_sent, (bits, rep) = await asyncio.gather(reconcile_alice(ca, a), reconcile_bob(cb, b, p))
        return alice_sent, bits, rep, ca.ledger, cb.ledger

    alice_sent, bits, rep, la, lb = asyncio.run(run())
    assert np.array_equal(bits, a)
    assert rep.disclosed_bits == alice_sent == la.disclosed_bits == lb.disclosed_bits
    v = variant("default", p)
    assert v.lookahead_cost(p, n) == LOOKAHEAD_COST and v.lookahead_cost(p, 10_000) == 0.0
    local_bits, local = reconcile_local(a, b, p, "default", seed=17)
    assert np.array_equal(local_bits, a)
    assert local.efficiency < 1.06                      # look-ahead spends at most 0.4 % of n·h(p) more
