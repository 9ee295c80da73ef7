"""Rate-adaptive LDPC reconciliation: corrects real BSC noise, counts every disclosed bit as the wire shows
it, reports a decoding failure (never returns it as corrected), and its codes are what they claim."""

from __future__ import annotations

import asyncio
import json
import math
import struct

import numpy as np
import pytest

from qkd._native import ldpc_decode
from qkd.postprocess.cascade import binary_entropy
from qkd.postprocess.channel import ClassicalChannel, NoAuth, Transport, in_process_transports
from qkd.postprocess.ldpc import (
    F_START_PHI_SUM,
    F_START_XL,
    F_START_XL_GAIN,
    MIN_SUM_MAX_PUNCTURED_SHARE,
    XL_FRAME_FROM,
    XL_STEP_SHARE,
    Decoder,
    LdpcError,
    LdpcPlan,
    LdpcPolicy,
    LdpcReport,
    frame_layout,
    plan_ldpc,
    reconcile_alice_ldpc,
    reconcile_bob_ldpc,
    reconcile_local_ldpc,
)
from qkd.postprocess.ldpc_codes import (
    ELKOUSS_2009_LAMBDA,
    FAMILY_VERSION,
    FRAME_LENGTHS,
    LONG_CODE_DISTRIBUTION,
    MIN_SUM_FAMILY,
    MOTHER_RATES,
    PREVIOUS_FAMILY,
    SEARCHED_LAMBDA,
    LdpcCodeError,
    QCCode,
    build_code,
    edge_distribution_degrees,
    family_code,
    family_code_shape,
)
from qkd.postprocess.ldpc_reference import EdgeList, decode_flooding, syndrome_reference
from qkd.postprocess.verify import VerificationResult, verify_receiver, verify_sender
from tests.qkd.bsc import bsc_pair
from tests.qkd.ldpc_int8_model import decode_int8

SHORT = FRAME_LENGTHS[0]
LONG = FRAME_LENGTHS[1]
XL = FRAME_LENGTHS[2]


# -- codes ------------------------------------------------------------------------------------------------

def test_family_codes_are_built_deterministically_from_their_name() -> None:
    first = family_code(0.7, SHORT)
    build_code.cache_clear()
    again = family_code(0.7, SHORT)
    assert first is not again
    for attr in ("row_start", "ent_col", "ent_shift", "puncture_order"):
        assert np.array_equal(getattr(first, attr), getattr(again, attr))
    assert first.name == again.name == f"{FAMILY_VERSION}-r0.70-n{SHORT}"


def _assert_no_lifted_four_cycles(code: QCCode) -> None:
    # no two variables share two checks (a 4-cycle), checked on the lifted graph itself: every pair of
    # variables of every check, as one integer, occurs once
    keys = []
    z = np.arange(code.Z)
    for r in range(code.mb):
        ents = range(int(code.row_start[r]), int(code.row_start[r + 1]))
        var = np.stack([code.ent_col[e] * code.Z + (z + code.ent_shift[e]) % code.Z for e in ents])
        i, j = np.triu_indices(len(var), 1)
        lo, hi = np.minimum(var[i], var[j]), np.maximum(var[i], var[j])
        keys.append((lo.astype(np.int64) * code.n + hi).ravel())
    allkeys = np.concatenate(keys)
    assert np.unique(allkeys).size == allkeys.size, "two variables share two checks"


@pytest.mark.parametrize("rate", MOTHER_RATES)
def test_family_code_has_its_rate_no_lifted_four_cycles_and_untainted_puncturing(rate: float) -> None:
    code = family_code(rate, SHORT)
    assert code.n == SHORT and abs(code.m / code.n - (1 - rate)) < 1e-9
    assert code.four_cycles == 0
    cv = code.check_neighbours()
    _assert_no_lifted_four_cycles(code)
    # untainted: every check has at most one punctured neighbour
    punctured = np.zeros(code.n, bool)
    punctured[code.puncture_order] = True
    per_check = np.bincount(cv[:, 0], weights=punctured[cv[:, 1]], minlength=code.m)
    assert per_check.max() <= 1
    assert code.max_punctured > 0


@pytest.mark.parametrize("rate", MOTHER_RATES)
def test_long_codes_follow_their_bsc_degree_distributions(rate: float) -> None:
    """The 122 800-bit codes carry Elkouss et al. (ISIT 2009) Table I's variable degrees, or the family's own where it
    departs from them (SEARCHED_LAMBDA): every degree's share of the base columns within one column of its node
    fraction, the mother rate exact, no lifted 4-cycle left by the construction, and untainted puncturing available."""
    code = family_code(rate, LONG)
    assert code.n == LONG and abs(code.m / code.n - (1 - rate)) < 1e-9 and code.four_cycles == 0
    lam = SEARCHED_LAMBDA.get((round(rate, 2), LONG)) or ELKOUSS_2009_LAMBDA[LONG_CODE_DISTRIBUTION[round(rate, 2)]]
    total = sum(lam.values())
    node = {d: v / total / d for d, v in lam.items()}
    norm = sum(node.values())
    degs, counts = np.unique(code.col_degree, return_counts=True)
    got = dict(zip(degs.tolist(), counts.tolist(), strict=True))
    assert set(got) <= set(lam)
    for d in lam:
        assert abs(got.get(d, 0) - code.nb * node[d] / norm) <= 1.0, (d, got.get(d, 0))
    row_deg = np.diff(code.row_start)
    assert row_deg.max() - row_deg.min() <= 1            # concentrated check degrees
    assert code.max_punctured >= code.m // 4


@pytest.mark.parametrize("length", FRAME_LENGTHS[1:])
def test_the_family_differs_from_the_previous_one_only_where_it_has_its_own_distribution(length: int) -> None:
    # qc3 = qc2 with new rate-0.90 (and any other SEARCHED_LAMBDA) codes: the other codes are bit for bit qc2's,
    # so the previous family stays decodable and the calibrations of the unchanged rates hold
    for rate in MOTHER_RATES:
        new, old = family_code(rate, length), family_code(rate, length, PREVIOUS_FAMILY)
        assert new.name.startswith(FAMILY_VERSION) and old.name.startswith(PREVIOUS_FAMILY)
        same = all(np.array_equal(getattr(new, a), getattr(old, a)) for a in ("row_start", "ent_col", "ent_shift"))
        assert same == ((round(rate, 2), length) not in SEARCHED_LAMBDA), rate


def test_a_plan_naming_the_previous_family_is_still_understood() -> None:
    plan = plan_ldpc(100_000, 0.01)
    assert plan.family == FAMILY_VERSION
    old = LdpcPlan.from_json(plan.to_json() | {"family": PREVIOUS_FAMILY})
    assert old.family == PREVIOUS_FAMILY and old.code.name.startswith(PREVIOUS_FAMILY)
    assert old.code.n == plan.code.n and old.code.m == plan.code.m


def test_the_min_sum_family_keeps_low_degrees_and_plans_name_their_family() -> None:
    """Min-sum does not decode the optimised codes (variable degrees up to 73), so it gets its own family of
    low-degree codes; the plan sent to Alice names the family, and a plan of either family round-trips."""
    code = family_code(0.8, LONG, MIN_SUM_FAMILY)
    assert code.name == f"{MIN_SUM_FAMILY}-r0.80-n{LONG}" and int(code.col_degree.max()) <= 8
    assert int(family_code(0.8, LONG).col_degree.max()) > 8
    for decoder, family in (("min-sum", MIN_SUM_FAMILY), ("sum-product", FAMILY_VERSION)):
        plan = plan_ldpc(100_000, 0.03, LdpcPolicy(decoder=decoder))
        assert plan.family == family and plan.code.name.startswith(family)
        assert plan.to_json()["family"] == family
        assert LdpcPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan
    with pytest.raises(LdpcError, match="unknown code family 'qc9'"):
        LdpcPlan.from_json({**plan.to_json(), "family": "qc9"})


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_long_code_has_no_lifted_four_cycle_on_the_graph_itself() -> None:
    _assert_no_lifted_four_cycles(family_code(0.5, LONG))


def test_a_degree_above_the_base_rows_is_refused() -> None:
    with pytest.raises(LdpcCodeError, match="does not fit"):
        edge_distribution_degrees(100, 20, {2: 0.5, 21: 0.5})
    degs = edge_distribution_degrees(10, 5, {2: 0.5, 3: 0.5})
    assert len(degs) == 10 and degs == sorted(degs, reverse=True)


def test_compiled_syndrome_and_decoder_agree_with_the_numpy_reference() -> None:
    code = family_code(0.6, SHORT)
    edges = EdgeList(code)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, code.n, dtype=np.uint8)
    syn = ldpc_decode.syndrome(code.row_start, code.ent_col, code.ent_shift, code.Z, x)
    assert np.array_equal(syn, syndrome_reference(edges, x))
    q = 0.04
    y = x ^ (rng.random(code.n) < q).astype(np.uint8)
    llr = (math.log((1 - q) / q) * (1.0 - 2.0 * y)).astype(np.float32)
    fast, its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn, 0.8, 60)
    ref, ref_its = decode_flooding(edges, llr, syn, 0.8, 120)
    assert its > 0 and ref_its > 0
    assert np.array_equal(fast, x) and np.array_equal(ref, x)
    assert its <= ref_its     # the layered schedule converges at least as fast as flooding
    exact, exact_its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn, 0.8, 60,
                                          fixed_point=False)
    assert np.array_equal(exact, x) and abs(exact_its - its) <= 2   # fixed point (1/8 nat) ≈ float min-sum


@pytest.mark.parametrize("algorithm", ["sum-product", "phi-sum"])
def test_compiled_sum_product_agrees_with_the_numpy_sum_product(algorithm: str) -> None:
    """The compiled φ-domain sum-product (float, or the fixed-point φ-sum approximation) and the numpy tanh-rule
    flooding sum-product find the same word, the layered one in fewer iterations, on a frame with punctured (LLR 0)
    and shortened (LLR ±large) bits."""
    code = family_code(0.8, SHORT)
    edges = EdgeList(code)
    rng = np.random.default_rng(8)
    x = rng.integers(0, 2, code.n, dtype=np.uint8)
    syn = ldpc_decode.syndrome(code.row_start, code.ent_col, code.ent_shift, code.Z, x)
    q = 0.02
    y = x ^ (rng.random(code.n) < q).astype(np.uint8)
    llr = (math.log((1 - q) / q) * (1.0 - 2.0 * y)).astype(np.float32)
    llr[code.puncture_order[: code.max_punctured // 4]] = 0.0          # punctured: no channel information
    short = rng.choice(np.setdiff1d(np.arange(code.n), code.puncture_order), code.n // 10, replace=False)
    llr[short] = np.where(x[short] == 0, 1.0e4, -1.0e4)                 # shortened: known to Bob
    fast, its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn, 0.8, 100, 0,
                                   algorithm=algorithm)
    ref, ref_its = decode_flooding(edges, llr, syn, max_iter=200, sum_product=True)
    assert its > 0 and ref_its > 0
    assert np.array_equal(fast, x) and np.array_equal(ref, x)
    assert its <= ref_its


@pytest.mark.skipif(ldpc_decode.lanes() < 16, reason="this CPU has no AVX-512: only the 8-lane decoder runs")
@pytest.mark.parametrize("algorithm", ["min-sum", "min-sum-float", "sum-product", "phi-sum", "min-sum-8"])
@pytest.mark.parametrize("length", FRAME_LENGTHS)
def test_the_8_and_16_lane_decoders_give_the_same_result(algorithm: str, length: int) -> None:
    """Lanes are independent checks of one layer, so the AVX-512 and AVX2/baseline builds must agree bit for bit
    (word and iteration count), partial last chunks (Z = 60, 300 are not multiples of 16) and wrapped loads
    included — on a frame that decodes and on one that does not (each decoder on its own family's code)."""
    code = family_code(0.7, length, MIN_SUM_FAMILY if algorithm.startswith("min-sum") else FAMILY_VERSION)
    rng = np.random.default_rng(21)
    for q in (0.04, 0.09):
        x = rng.integers(0, 2, code.n, dtype=np.uint8)
        syn = ldpc_decode.syndrome(code.row_start, code.ent_col, code.ent_shift, code.Z, x)
        y = x ^ (rng.random(code.n) < q).astype(np.uint8)
        llr = (math.log((1 - q) / q) * (1.0 - 2.0 * y)).astype(np.float32)
        llr[code.puncture_order[:100]] = 0.0
        runs = [ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn, 0.8, 60, 0,
                                   lanes=lanes, algorithm=algorithm) for lanes in (8, 16)]
        assert runs[0][1] == runs[1][1]
        assert np.array_equal(runs[0][0], runs[1][0])
        assert (runs[0][1] > 0) == (q < 0.05)        # the 4 % frame decodes, the 9 % one cannot (rate 0.7)


@pytest.mark.parametrize("length", [SHORT, LONG])
@pytest.mark.parametrize("lanes", [8, 16])
def test_the_int8_min_sum_is_its_numpy_model_bit_for_bit(length: int, lanes: int) -> None:
    """The int8 min-sum (32 lanes on AVX2, 64 on AVX-512: Z = 60 takes the 32-lane build, partial chunks and wrapped
    loads included) returns the word and iteration count of its numpy model (tests/qkd/ldpc_int8_model.py): on a
    frame that decodes, with punctured and shortened bits, on one that does not (its last hard decision after the
    iteration cap), and at a scale where values saturate often (differences that reach −128)."""
    if lanes == 16 and ldpc_decode.lanes() < 16:
        pytest.skip("this CPU has no AVX-512: only the 32-lane int8 decoder runs")
    code = family_code(0.8, length, MIN_SUM_FAMILY)
    rng = np.random.default_rng(31)
    decoded = 0
    for q, scale, cap in ((0.02, 3.5, 60), (0.06, 2.0, 12), (0.02, 12.0, 8)):
        x = rng.integers(0, 2, code.n, dtype=np.uint8)
        syn = ldpc_decode.syndrome(code.row_start, code.ent_col, code.ent_shift, code.Z, x)
        y = x ^ (rng.random(code.n) < q).astype(np.uint8)
        llr = (math.log((1 - q) / q) * (1.0 - 2.0 * y)).astype(np.float32)
        llr[code.puncture_order[:code.max_punctured // 4]] = 0.0
        known = rng.choice(np.setdiff1d(np.arange(code.n), code.puncture_order), code.n // 20, replace=False)
        llr[known] = np.where(x[known] == 0, 1.0e4, -1.0e4)
        got, its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn, 0.8, cap, 0,
                                      lanes=lanes, algorithm="min-sum-8", q8_scale=scale)
        want, want_its = decode_int8(code, llr, syn, 0.8, cap, scale)
        assert its == want_its
        assert np.array_equal(got, want)
        decoded += its > 0 and bool(np.array_equal(got, x))
    assert decoded == 1      # the 2 % frame decodes; the 6 % one (rate 0.8) cannot, nor the last in 8 iterations


def test_the_int8_min_sum_decodes_the_frames_the_int16_one_does_and_falls_back_where_it_cannot_run() -> None:
    """On the min-sum family's rate-0.85 long code at QBER 2 % (shortened to f = 1.35) the int8 min-sum decodes
    every frame the int16 one does, within a few iterations of it; where its lanes cannot run (Z below 32, or an
    edge index above 127) it is the int16 min-sum, result for result."""
    q = 0.02
    code = family_code(0.85, LONG, MIN_SUM_FAMILY)
    rng = np.random.default_rng(41)
    for _ in range(3):
        x = rng.integers(0, 2, code.n, dtype=np.uint8)
        syn = ldpc_decode.syndrome(code.row_start, code.ent_col, code.ent_shift, code.Z, x)
        y = x ^ (rng.random(code.n) < q).astype(np.uint8)
        llr = (math.log((1 - q) / q) * (1.0 - 2.0 * y)).astype(np.float32)
        known = rng.choice(code.n, code.n - int(code.m / (1.35 * binary_entropy(q))), replace=False)
        llr[known] = np.where(x[known] == 0, 1.0e4, -1.0e4)
        runs = {alg: ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn, 0.8, 100,
                                        0, algorithm=alg) for alg in ("min-sum", "min-sum-8")}
        for out, its in runs.values():
            assert its > 0 and np.array_equal(out, x)
        assert abs(runs["min-sum-8"][1] - runs["min-sum"][1]) <= 5
    # Z = 16 (below the 32 int8 lanes of the narrowest build), and a base row of 130 entries (edge indices past
    # int8): the int16 min-sum runs, word and iteration count for word and iteration count
    for Z, mb, nb, deg in ((16, 6, 12, 6), (64, 2, 140, 130)):
        cols = np.concatenate([np.sort(rng.choice(nb, deg, replace=False)) for _ in range(mb)]).astype(np.int32)
        shifts = rng.integers(0, Z, mb * deg).astype(np.int32)
        row_start = np.arange(0, mb * deg + 1, deg, dtype=np.int32)
        x = rng.integers(0, 2, nb * Z, dtype=np.uint8)
        syn = ldpc_decode.syndrome(row_start, cols, shifts, Z, x)
        y = x ^ (rng.random(nb * Z) < 0.01).astype(np.uint8)
        llr = (math.log(99) * (1.0 - 2.0 * y)).astype(np.float32)
        a, b = (ldpc_decode.decode(row_start, cols, shifts, Z, llr, syn, 0.8, 30, 0, algorithm=alg)
                for alg in ("min-sum", "min-sum-8"))
        assert a[1] == b[1] and np.array_equal(a[0], b[0])


def test_each_decoder_decodes_its_own_family_and_min_sum_not_the_optimised_codes() -> None:
    """At QBER 2.1 % on rate-0.8 long codes (f = 1.35, unpunctured): sum-product decodes the BSC-optimised code
    and min-sum the low-degree one; min-sum does not decode the optimised code (its degree-17 and -26 variables),
    which is why each decoder has its own family."""
    q = 0.021
    rng = np.random.default_rng(13)
    found: dict[tuple[str, bool], int] = {}
    for family, sum_product in ((FAMILY_VERSION, True), (MIN_SUM_FAMILY, False), (FAMILY_VERSION, False)):
        code = family_code(0.8, LONG, family)
        ok = 0
        for _ in range(2):
            x = rng.integers(0, 2, code.n, dtype=np.uint8)
            syn = ldpc_decode.syndrome(code.row_start, code.ent_col, code.ent_shift, code.Z, x)
            y = x ^ (rng.random(code.n) < q).astype(np.uint8)
            llr = (math.log((1 - q) / q) * (1.0 - 2.0 * y)).astype(np.float32)
            out, its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn, 0.8, 100,
                                          0, sum_product)
            ok += its > 0 and bool(np.array_equal(out, x))
        found[family, sum_product] = ok
    assert found == {(FAMILY_VERSION, True): 2, (MIN_SUM_FAMILY, False): 2, (FAMILY_VERSION, False): 0}


def test_the_phi_sum_decodes_the_optimised_code_that_min_sum_does_not() -> None:
    """The φ-sum keeps min-sum's compressed messages but sums the inputs in the φ domain, so a check's message
    shrinks with its number of unreliable inputs as in sum-product: on the rate-0.85 optimised code (check degree
    41–42, variable degree up to 21) at QBER 2 %, f = 1.20, it decodes every frame and min-sum none."""
    q = 0.02
    code = family_code(0.85, LONG)
    rng = np.random.default_rng(17)
    found = {"phi-sum": 0, "min-sum": 0}
    for _ in range(2):
        x = rng.integers(0, 2, code.n, dtype=np.uint8)
        syn = ldpc_decode.syndrome(code.row_start, code.ent_col, code.ent_shift, code.Z, x)
        y = x ^ (rng.random(code.n) < q).astype(np.uint8)
        llr = (math.log((1 - q) / q) * (1.0 - 2.0 * y)).astype(np.float32)
        known = rng.choice(code.n, code.n - int(code.m / (1.2 * binary_entropy(q))), replace=False)
        llr[known] = np.where(x[known] == 0, 1.0e4, -1.0e4)      # shortened: k key bits left, leakage 1.2·k·h(q)
        for algorithm in found:
            out, its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn, 0.8, 100,
                                          0, algorithm=algorithm)
            found[algorithm] += its > 0 and bool(np.array_equal(out, x))
    assert found == {"phi-sum": 2, "min-sum": 0}


def test_the_phi_table_is_phi_at_eighths_of_a_nat() -> None:
    table = ldpc_decode.phi_table()
    x = (2 * np.arange(128) + 0.5) / 16
    want = np.minimum(32767, np.round(8192 * -np.log(np.tanh(x / 2))))
    assert table.dtype == np.int16 and np.array_equal(table.astype(np.int64), want.astype(np.int64))
    # what the AVX2 lookup relies on (ldpc_minsum.h): entries from 96 on are 0, entries from 48 on below 256
    assert not table[96:].any() and table[48:].max() < 256


def test_the_phi_sums_message_table_is_phi_and_its_slope_at_every_sum() -> None:
    """The φ-sum looks its check messages up by the φ-domain sum y (0 … 32767, 2^−13 nat): φ(y) in 1/16 nat as
    −ln tanh(y/2) rounds it (y clamped to [4e-9, 20] nat), and the slope G = 256·e^−y / (1 − e^−2y) = 128/sinh(y),
    capped at 32767, to float precision (the table is filled by the float evaluation the decoder used to run per
    check; 60 φ-sum decodes at QBER 1–8 % gave the same words and iteration counts before and after)."""
    table = ldpc_decode.phi_out_table().astype(np.int64)
    x = np.clip(np.arange(32768) / 8192.0, 4e-9, 20.0)
    phi = np.minimum(np.floor(16 * -np.log(np.tanh(x / 2)) + 0.5), 2047)
    u = np.exp(-x)
    slope = np.clip(np.floor(256 * u / (1 - u * u) + 0.5), 0, 32767)
    assert np.array_equal(table[:, 0], phi)
    assert np.all(np.abs(table[:, 1] - slope) <= np.maximum(5, 1e-3 * slope))
    assert table[0, 0] == 320 and table[-1, 0] == 1      # 20 nat (the clamp) and φ(4 nat) = 0.037 nat


@pytest.mark.parametrize("lanes", [8, 16])
def test_the_compiled_phi_lookup_returns_the_table_entry_of_every_magnitude(lanes: int) -> None:
    """Every int16 magnitude, through the SIMD lookup the φ-sum decoder runs on this CPU (byte shuffles on AVX2, a
    two-register word permutation on AVX-512), gives the table entry of its eighth of a nat, clamped to the last."""
    if lanes == 16 and ldpc_decode.lanes() < 16:
        pytest.skip("this CPU has no AVX-512: only the 8-lane lookup runs")
    mags = np.arange(32768, dtype=np.int16)
    got = ldpc_decode.phi_lookup(mags, lanes)
    want = ldpc_decode.phi_table()[np.minimum(mags.astype(np.int64) >> 1, 127)]
    assert np.array_equal(got, want)
    # and in any order (lanes are independent)
    perm = np.random.default_rng(3).permutation(mags)
    assert np.array_equal(ldpc_decode.phi_lookup(perm, lanes), got[perm])
    with pytest.raises(ValueError, match="magnitude -1 at 0"):
        ldpc_decode.phi_lookup(np.full(32, -1, np.int16), lanes)
    with pytest.raises(ValueError, match="unknown decoder algorithm 'bp'"):
        code = family_code(0.5, SHORT)
        ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, np.zeros(code.n, np.float32),
                           np.zeros(code.m, np.uint8), algorithm="bp")


def test_an_unknown_decoder_is_refused() -> None:
    with pytest.raises(LdpcError, match="unknown LDPC decoder 'bp'"):
        LdpcPolicy(decoder="bp")  # type: ignore[arg-type]  # the wrong value is the point of the test


def test_decoder_reports_failure_with_a_negative_iteration_count() -> None:
    code = family_code(0.9, SHORT)
    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, code.n, dtype=np.uint8)
    syn = ldpc_decode.syndrome(code.row_start, code.ent_col, code.ent_shift, code.Z, x)
    y = x ^ (rng.random(code.n) < 0.2).astype(np.uint8)        # far beyond what a rate-0.9 code corrects
    llr = (math.log(0.8 / 0.2) * (1.0 - 2.0 * y)).astype(np.float32)
    _, its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn, 0.8, 20)
    assert its == -20


def test_decoder_rejects_inconsistent_code_arrays() -> None:
    code = family_code(0.5, SHORT)
    llr = np.zeros(code.n, np.float32)
    with pytest.raises(ValueError, match="syndrome of"):
        ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, np.zeros(5, np.uint8))
    bad = code.ent_shift.copy()
    bad[0] = code.Z
    with pytest.raises(ValueError, match="bad QC code entry"):
        ldpc_decode.syndrome(code.row_start, code.ent_col, bad, code.Z, np.zeros(code.n, np.uint8))


@pytest.mark.parametrize("rate, n", [(0.85, XL), (0.5, LONG), (0.9, SHORT)])
def test_compiled_syndrome_of_every_frame_length_agrees_with_the_numpy_reference(rate: float, n: int) -> None:
    """The syndrome XORs each circulant as two contiguous runs in vector instructions: every shift and every length
    of run (Z = 1229, 307, 30) gives the reference's bits, and a decoded word's syndrome check agrees."""
    code = family_code(rate, n, MIN_SUM_FAMILY)
    x = np.random.default_rng(int(n)).integers(0, 2, code.n, dtype=np.uint8)
    syn = ldpc_decode.syndrome(code.row_start, code.ent_col, code.ent_shift, code.Z, x)
    assert np.array_equal(syn, syndrome_reference(EdgeList(code), x))
    llr = (4.0 * (1.0 - 2.0 * x)).astype(np.float32)       # the word itself, confidently: zero errors to correct
    word, its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, syn, 0.8, 5)
    assert its == 1 and np.array_equal(word, x)
    flipped = syn.copy()
    flipped[-1] ^= 1                                          # one check the word does not satisfy
    _, its = ldpc_decode.decode(code.row_start, code.ent_col, code.ent_shift, code.Z, llr, flipped, 0.8, 1)
    assert its == -1


def test_frame_assembly_kernels_match_numpy_and_refuse_positions_outside_the_frame() -> None:
    n, rng = 5000, np.random.default_rng(4)
    perm = rng.permutation(n)
    key, shortened = np.sort(perm[:3000]), np.sort(perm[3000:4500])
    bits = rng.integers(0, 2, 3000, dtype=np.uint8)
    llr = ldpc_decode.frame_llr(bits, key, shortened, n, 3.25, 1e4)
    ref = np.zeros(n, np.float32)
    ref[shortened] = 1e4
    ref[key] = np.where(bits == 1, -3.25, 3.25)
    assert llr.dtype == np.float32 and np.array_equal(llr, ref)
    word = ldpc_decode.frame_word(bits, key, n)
    assert np.array_equal(word[key], bits) and np.count_nonzero(word) == np.count_nonzero(bits)
    assert np.array_equal(ldpc_decode.take_bits(word, key), bits)
    outside = key.copy()
    outside[7] = n
    with pytest.raises(ValueError, match=f"key position {n} \\(entry 7\\) outside a frame of {n} bits"):
        ldpc_decode.frame_word(bits, outside, n)
    with pytest.raises(ValueError, match="shortened position -1"):
        ldpc_decode.frame_llr(bits, key, np.array([-1]), n, 3.25, 1e4)
    with pytest.raises(ValueError, match="outside a frame"):
        ldpc_decode.take_bits(word, outside)
    with pytest.raises(ValueError, match="2999 bits for 3000 key positions"):
        ldpc_decode.frame_llr(bits[:-1], key, shortened, n, 3.25, 1e4)


# -- plans -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("family", [FAMILY_VERSION, MIN_SUM_FAMILY])
def test_planning_builds_only_the_code_it_takes_and_the_shapes_are_the_codes(family: str) -> None:
    """The planner weighs every mother rate by its shape (checks, untainted bits from the base matrix) and lifts only
    the code of its plan: a link end's first block does not wait for nine codes to be built."""
    decoder = "phi-sum" if family == FAMILY_VERSION else "min-sum-8"
    build_code.cache_clear()
    plan = plan_ldpc(300_000, 0.03, LdpcPolicy(decoder=decoder))
    assert build_code.cache_info().currsize == 0          # planning lifted nothing
    assert plan.code.name.startswith(family) and build_code.cache_info().currsize == 1
    for rate in (0.5, 0.7, 0.85, 0.9):
        for n in (SHORT, LONG, XL) if rate == 0.85 else (SHORT, LONG):
            shape, code = family_code_shape(rate, n, family), family_code(rate, n, family)
            assert (shape.m, shape.max_punctured) == (code.m, code.max_punctured)
    with pytest.raises(LdpcCodeError, match="no code of rate 0.42"):
        family_code_shape(0.42, LONG, family)



@pytest.mark.parametrize("n", [3_000, 20_000, 100_000, 250_000])
@pytest.mark.parametrize("qber", [0.005, 0.03, 0.11])
def test_plan_covers_the_block_and_fits_the_code(n: int, qber: float) -> None:
    plan = plan_ldpc(n, qber)
    code = plan.code
    assert plan.n_bits == n
    assert max(k for k, _ in plan.frames) - min(k for k, _ in plan.frames) <= 1
    for k, p in plan.frames:
        assert 0 <= p <= code.max_punctured and k + p <= code.n
        lay = frame_layout(plan.rate, plan.frame_length, k, p)
        together = np.concatenate([lay.key, lay.punctured, lay.shortened])
        assert together.size == code.n and np.unique(together).size == code.n
    assert LdpcPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


def test_blocks_of_several_1e5_bits_take_the_extra_long_codes_with_finer_retries() -> None:
    """From XL_FRAME_FROM bits a block goes into 491 600-bit frames (Z = 1229) that start lower (F_START_XL_GAIN)
    and reveal half the step per retry; such a block reconciles at QBER 2 % near f = 1.1, every bit counted."""
    n = 470_000
    plan, plan_long = plan_ldpc(n, 0.02), plan_ldpc(XL_FRAME_FROM - 1, 0.02)
    assert plan.frame_length == XL and plan_long.frame_length == LONG and plan.code.Z == 1229
    assert plan.reveal_step == math.ceil(LdpcPolicy().f_step * n * binary_entropy(0.02) * XL_STEP_SHARE)
    k, p = plan.frames[0]
    f0 = (plan.code.m - p) / (k * binary_entropy(0.02))
    assert abs(f0 - F_START_XL.get(0.85, F_START_PHI_SUM[0.85] - F_START_XL_GAIN)) < 1e-3
    a, b = bsc_pair(n, 0.02, 3)
    out, rep = reconcile_local_ldpc(a, b, 0.02, seed=3)
    assert rep.decoded and np.array_equal(out, a) and rep.frame_length == XL
    assert rep.disclosed_bits == rep.syndrome_bits - rep.punctured_bits + rep.check_bits + rep.revealed_bits
    assert rep.efficiency < 1.13


def test_plan_starts_at_the_requested_efficiency_where_the_family_reaches_it() -> None:
    for qber in (0.02, 0.05, 0.08):
        plan = plan_ldpc(100_000, qber, LdpcPolicy(f_start=1.1))
        leak = sum(plan.code.m - p for _, p in plan.frames)
        f0 = leak / (plan.n_bits * binary_entropy(qber))
        assert 1.1 - 1e-3 <= f0 < 1.1 + 1e-3 * len(plan.frames) + 1e-3


def test_min_sum_plans_take_one_more_frame_rather_than_puncture_its_frames_heavily() -> None:
    """A 3.19 Mbit block at QBER 1.1 %, f₀ 1.4: seven extra-long frames need the rate-0.85 code punctured by 3.7 %,
    which min-sum decodes slowly (85 iterations a frame, 4 round trips); the min-sum plan takes eight rate-0.90 frames
    punctured by under 2 % instead, decoded in one round trip at the same f₀. The φ-sum keeps the fewest frames, and a
    block of one frame is not cut in two."""
    n, q = 3_190_000, 0.011
    ms = plan_ldpc(n, q, LdpcPolicy(decoder="min-sum-8", f_start=1.4))
    phi = plan_ldpc(n, q, LdpcPolicy(decoder="phi-sum", f_start=1.4))
    assert (len(phi.frames), len(ms.frames)) == (7, 8) and ms.frame_length == phi.frame_length == XL
    assert ms.rate == 0.9 and all(p <= MIN_SUM_MAX_PUNCTURED_SHARE * XL for _, p in ms.frames)
    assert sum(k for k, _ in ms.frames) == n
    f0 = sum(ms.code.m - p for _, p in ms.frames) / (n * binary_entropy(q))
    assert abs(f0 - 1.4) < 1e-3 * len(ms.frames)
    # heavily punctured single frames stay single: the rule needs MIN_SUM_SPLIT_FROM frames
    one = plan_ldpc(470_000, 0.02)
    assert len(plan_ldpc(470_000, 0.02, LdpcPolicy(decoder="min-sum-8")).frames) == len(one.frames) == 1
    # three long frames of a 318 kbit block punctured by 4.4 % become four by 2.1 %; at 2 % QBER (2.9 % punctured,
    # one more frame would only reach 2.2 %) the plan keeps its three
    small = plan_ldpc(318_000, q, LdpcPolicy(decoder="min-sum-8", f_start=1.4))
    assert (len(small.frames), small.rate, small.frame_length) == (4, 0.9, LONG)
    assert len(plan_ldpc(318_000, 0.02, LdpcPolicy(decoder="min-sum-8", f_start=1.4)).frames) == 3
    a, b = bsc_pair(n, q, 11)
    out, rep = reconcile_local_ldpc(a, b, q, LdpcPolicy(decoder="min-sum-8", f_start=1.4), seed=11)
    assert rep.decoded and np.array_equal(out, a) and rep.round_trips == 1
    assert rep.iterations < 30 * rep.frames


# -- reconciliation ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("decoder", ["sum-product", "min-sum", "phi-sum", "min-sum-8"])
@pytest.mark.parametrize("qber", [0.01, 0.03, 0.06, 0.1])
def test_local_reconciliation_corrects_bsc_noise(qber: float, decoder: Decoder) -> None:
    for seed in range(2):
        a, b = bsc_pair(20_000, qber, seed)
        out, rep = reconcile_local_ldpc(a, b, qber, LdpcPolicy(decoder=decoder), seed=seed)
        assert rep.decoded and rep.failed_frames == []
        assert np.array_equal(out, a)
        assert rep.corrections == int(round(qber * 20_000))
        assert rep.disclosed_bits == rep.syndrome_bits - rep.punctured_bits + rep.check_bits + rep.revealed_bits
        assert rep.check_bits == 32 * rep.frames
        assert rep.round_trips == 1 + rep.retries
        assert rep.efficiency < 1.8


def test_each_retry_of_a_frame_waits_longer_before_it_stops_early() -> None:
    pol = LdpcPolicy(patience=12, patience_growth=4, max_iter=40)
    assert [pol.patience_at(a) for a in (0, 1, 2, 7, 100)] == [12, 16, 20, 40, 40]
    assert LdpcPolicy(patience=0).patience_at(5) == 0          # 0: never stops early, whatever the attempt
    with pytest.raises(LdpcError, match="patience_growth -1"):
        LdpcPolicy(patience_growth=-1)


def test_growing_patience_decodes_frames_that_the_early_stop_gives_up_on() -> None:
    """Stopping after one iteration without progress gives up on nearly every frame of these blocks whatever is
    revealed; the same policy whose retries wait longer decodes them on a retry (the 470 000-bit frame at 3 % QBER
    that failed all 21 attempts with patience 12 was this case)."""
    def run(growth: int) -> list[LdpcReport]:
        reps = []
        for seed in range(8):
            a, b = bsc_pair(20_000, 0.03, seed)
            out, rep = reconcile_local_ldpc(a, b, 0.03, LdpcPolicy(patience=1, patience_growth=growth,
                                                                   max_retries=2), seed=seed)
            assert rep.decoded == np.array_equal(out, a)
            reps.append(rep)
        return reps

    stuck = run(0)
    assert sum(r.decoded for r in stuck) <= 1
    patient = run(40)
    assert sum(r.decoded for r in patient) >= 6
    assert all(r.retries >= 1 for r in patient if r.decoded)


class WireTap:
    """A transport that keeps every frame it carries (header parsed independently of the channel)."""

    def __init__(self, inner: Transport, log: list[tuple[str, int, bytes]]) -> None:
        self.inner, self.log = inner, log

    async def send_bytes(self, data: bytes) -> None:
        _magic, _direction, _seq, disclosed, klen = struct.unpack_from(">4sBQIH", data)
        kind = data[19:19 + klen].decode()
        self.log.append((kind, disclosed, data[19 + klen:]))
        await self.inner.send_bytes(data)

    async def recv_bytes(self) -> bytes:
        return await self.inner.recv_bytes()

    async def close(self) -> None:
        await self.inner.close()


async def _run_pair(a: np.ndarray, b: np.ndarray, qber_estimate: float, policy: LdpcPolicy | None = None,
                    verify: bool = False
                    ) -> tuple[np.ndarray, LdpcReport, int, list[tuple[str, int, bytes]], VerificationResult | None]:
    log: list[tuple[str, int, bytes]] = []
    ta, tb = in_process_transports()
    alice = ClassicalChannel(WireTap(ta, log), NoAuth(), initiator=True)
    bob = ClassicalChannel(WireTap(tb, log), NoAuth(), initiator=False)

    async def alice_side() -> tuple[int, VerificationResult | None]:
        d = await reconcile_alice_ldpc(alice, a)
        return d, (await verify_sender(alice, a) if verify else None)

    async def bob_side() -> tuple[np.ndarray, LdpcReport, VerificationResult | None]:
        out, rep = await reconcile_bob_ldpc(bob, b, qber_estimate, policy)
        return out, rep, (await verify_receiver(bob, out) if verify else None)

    (disclosed_a, ver_a), (out, rep, _ver_b) = await asyncio.gather(alice_side(), bob_side())
    assert alice.ledger.disclosed_bits == bob.ledger.disclosed_bits
    return out, rep, disclosed_a, log, ver_a


def _independent_disclosure(log: list[tuple[str, int, bytes]]) -> tuple[int, int]:
    """Disclosed bits and round trips recomputed from the frames on the wire and the published plan."""
    plan = LdpcPlan.from_json(json.loads(next(body for kind, _, body in log if kind == "ldpc.start")))
    code = plan.code
    revealed = [0] * len(plan.frames)
    total, trips = 0, 0
    for kind, _declared, body in log:
        if kind == "ldpc.syndrome":         # syndromes, 8-byte salt, a 32-bit check value per frame
            assert len(body) == (code.m * len(plan.frames) + 7) // 8 + 8 + 4 * len(plan.frames)
            total += code.m * len(plan.frames) - sum(p for _, p in plan.frames) + 32 * len(plan.frames)
            trips += 1
        elif kind == "ldpc.more":
            trips += 1
            for f in np.frombuffer(body, ">u4").tolist():
                k, p = plan.frames[f]
                step = min(plan.reveal_step, k + p - revealed[f])
                revealed[f] += step
                total += step
    return total, trips


def test_channel_protocol_discloses_exactly_what_the_wire_shows() -> None:
    a, b = bsc_pair(30_000, 0.05, 11)
    # a too-low estimate forces blind retries, so reveals are on the wire too
    out, rep, disclosed_a, log, _ = asyncio.run(_run_pair(a, b, 0.045, LdpcPolicy(f_start=1.0, f_step=0.05)))
    assert np.array_equal(out, a) and rep.decoded
    assert rep.retries >= 1
    independent, trips = _independent_disclosure(log)
    declared = sum(d for _, d, _ in log)
    assert rep.disclosed_bits == independent == declared == disclosed_a
    assert rep.round_trips == trips
    assert rep.revealed_bits == sum(d for kind, d, _ in log if kind == "ldpc.reveal")
    kinds = [k for k, _, _ in log]
    assert kinds[0] == "ldpc.start" and kinds[-1] == "ldpc.done"
    assert kinds.count("ldpc.more") == kinds.count("ldpc.reveal") == rep.retries


def test_decoding_failure_is_reported_and_verification_rejects_the_block() -> None:
    a, b = bsc_pair(20_000, 0.10, 5)
    # estimate 1 % for a 10 % channel and one retry: the frames cannot decode
    out, rep, _, _, ver = asyncio.run(_run_pair(a, b, 0.01, LdpcPolicy(max_retries=1), verify=True))
    assert not rep.decoded and rep.failed_frames
    for f in rep.failed_frames:      # a failed frame keeps Bob's own bits: never a "correction"
        k0 = sum(k for k, _ in plan_ldpc(20_000, 0.01).frames[:f])
        k = plan_ldpc(20_000, 0.01).frames[f][0]
        assert np.array_equal(out[k0:k0 + k], b[k0:k0 + k])
    assert ver is not None and not ver.ok


def test_alice_refuses_a_plan_for_another_key_length() -> None:
    a, _ = bsc_pair(10_000, 0.02, 1)
    plan = plan_ldpc(12_345, 0.02)

    async def run() -> None:
        ta, tb = in_process_transports()
        alice = ClassicalChannel(ta, NoAuth(), initiator=True)
        bob = ClassicalChannel(tb, NoAuth(), initiator=False)
        await bob.send("ldpc.start", json.dumps(plan.to_json()).encode())
        await reconcile_alice_ldpc(alice, a)

    with pytest.raises(LdpcError, match="Alice holds 10000"):
        asyncio.run(run())


def test_alice_refuses_a_plan_outside_the_family() -> None:
    a, _ = bsc_pair(10_000, 0.02, 1)
    bogus = {"rate": 0.57, "N": SHORT, "frames": [[10_000, 0]], "step": 10, "retries": 3}

    async def run() -> None:
        ta, tb = in_process_transports()
        alice = ClassicalChannel(ta, NoAuth(), initiator=True)
        bob = ClassicalChannel(tb, NoAuth(), initiator=False)
        await bob.send("ldpc.start", json.dumps(bogus).encode())
        await reconcile_alice_ldpc(alice, a)

    with pytest.raises(Exception, match="no code of rate 0.57"):
        asyncio.run(run())


def _blind_blocks(qber: float, blocks: int, seed0: int) -> tuple[int, list[float]]:
    """Blocks of 10^5 bits at ``qber`` through the blind protocol (default policy): failures (output ≠ Alice's
    bits, or a frame reported undecoded) and efficiencies."""
    failures, fs = 0, []
    for seed in range(blocks):
        a, b = bsc_pair(100_000, qber, seed0 + seed)
        out, rep = reconcile_local_ldpc(a, b, qber, seed=seed)
        failures += not (rep.decoded and np.array_equal(out, a))
        fs.append(rep.efficiency)
    return failures, fs


@pytest.mark.parametrize("qber", [0.01, 0.02, 0.05])
def test_blocks_of_1e5_bits_reconcile_near_the_bar(qber: float) -> None:
    """The short CI version of the frame-error-rate run: a few 10^5-bit blocks reconcile, at a mean efficiency
    near issue 20's bar (the full run: ``test_frame_error_rate_below_1e_3_at_n_1e5``, bench/qkd_ldpc.py fer)."""
    failures, fs = _blind_blocks(qber, 6, 500)
    assert failures == 0
    assert float(np.mean(fs)) < F_MEAN_BOUND[qber]


#: upper bounds on the mean efficiency the tests accept per QBER, a little above what bench/qkd_ldpc.py measured
#: (bench/results/qkd_ldpc.json: issue 20's bar is 1.10)
F_MEAN_BOUND = {0.01: 1.15, 0.02: 1.14, 0.05: 1.12, 0.08: 1.12, 0.11: 1.2}


@pytest.mark.parametrize("qber", [0.01, 0.02])
def test_blocks_of_several_1e5_bits_reconcile_below_the_bar_at_low_qber(qber: float) -> None:
    """The extra-long frames of the family's own rate-0.90 and 0.85 codes (SEARCHED_LAMBDA): blocks of 470 000 bits
    reconcile at 1 % and 2 % QBER below issue 20's f = 1.10 (bench/qkd_ldpc.py fer --n 470000: mean 1.084 at 1 %
    over 3000 blocks, none failed). Where the published rate-0.85 row built the rate-0.90 code, 1 % needed 1.165."""
    fs = []
    for seed in range(3):
        a, b = bsc_pair(470_000, qber, 40 + seed)
        out, rep = reconcile_local_ldpc(a, b, qber, seed=seed)
        assert rep.decoded and np.array_equal(out, a) and rep.frame_length == XL
        assert rep.code.startswith(FAMILY_VERSION)
        fs.append(rep.efficiency)
    assert float(np.mean(fs)) < 1.10, fs


@pytest.mark.slow
@pytest.mark.timeout(5400)
@pytest.mark.parametrize("qber", [0.01, 0.02, 0.05, 0.08])
def test_frame_error_rate_below_1e_3_at_n_1e5(qber: float) -> None:
    """3000 blocks of 10^5 bits: none may fail after the blind retries, which bounds the frame error rate below
    10^-3 at 95 % confidence (one-sided Clopper–Pearson with 0 failures: 1 − 0.05^(1/3000) = 9.98·10^-4)."""
    blocks = 3000
    failures, fs = _blind_blocks(qber, blocks, 10_000)
    assert failures == 0, f"{failures} of {blocks} blocks failed at QBER {qber}"
    assert float(np.mean(fs)) < F_MEAN_BOUND[qber]


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("qber", [0.01, 0.02, 0.05, 0.08, 0.11])
def test_frame_error_rate_after_retries_at_n_1e5(qber: float) -> None:
    """200 blocks of 10^5 bits per QBER: every block decodes after the blind retries (0 failures in 200:
    FER ≤ 1.5 % at 95 % confidence; bench/qkd_ldpc.py reports the measured rates) and the mean efficiency
    stays below the tests' bound."""
    failures, fs = _blind_blocks(qber, 200, 1000)
    assert failures == 0, f"{failures} blocks not reconciled at QBER {qber}"
    assert float(np.mean(fs)) < F_MEAN_BOUND[qber]
