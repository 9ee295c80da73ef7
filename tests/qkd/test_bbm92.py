"""BBM92 from two stations' time tags to a key length: sifting, the entanglement witness as an alarm (an
intercept-resend attacker on one arm breaks it), and the Tomamichel–Lim–Gisin–Renner finite key."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qkd.events.coincidence import match, synchronise
from qkd.events.pairs import PairStation, emulate_pairs
from qkd.physics.entangled import SpdcSource
from qkd.postprocess.bbm92 import (
    X_BASIS,
    Z_BASIS,
    Bbm92Sifted,
    bbm92_key_length,
    entanglement_witness,
    hoeffding_upper,
    sift_coincidences,
)

WINDOW_PS = 1000.0


def _sifted(eve: float, seed: int, visibility: float = 0.97,
            duration_s: float = 0.5) -> tuple[SpdcSource, Bbm92Sifted]:
    source = SpdcSource.continuous_wave(3e6, WINDOW_PS, visibility=visibility)
    run = emulate_pairs(source, PairStation("alice", 0.1), PairStation("bob", 0.2, clock_offset_ps=4.4e7,
                                                                         clock_drift_ppm=-2.5),
                        duration_s, seed=seed, intercept_resend_fraction=eve)
    found = match(run.alice, run.bob, synchronise(run.alice, run.bob), WINDOW_PS)
    return source, sift_coincidences(found, 0.1, np.random.default_rng(seed))


def test_an_honest_link_certifies_entanglement_and_yields_key() -> None:
    source, s = _sifted(0.0, seed=1)
    assert s.qber(Z_BASIS) == pytest.approx(source.misalignment_error, abs=0.006)
    assert s.qber(X_BASIS) == pytest.approx(source.misalignment_error, abs=0.006)
    assert s.matched[Z_BASIS] == pytest.approx(s.matched[X_BASIS], rel=0.05)    # ½/½ passive bases
    assert s.alice_key.size == s.bob_key.size == s.matched[Z_BASIS] - s.disclosed[Z_BASIS]
    w = entanglement_witness(s)
    assert w.certified and w.reason == "" and w.chsh > 2.6
    errors = int(np.count_nonzero(s.alice_key != s.bob_key))
    leak = int(1.16 * s.alice_key.size * -(0.02 * math.log2(0.02) + 0.98 * math.log2(0.98)))
    kl = bbm92_key_length(s.alice_key.size, s.disclosed[X_BASIS], s.errors[X_BASIS], leak)
    assert kl.length > 0 and errors > 0


def test_an_intercept_resend_attacker_on_one_arm_breaks_the_witness_and_the_alarm_says_why() -> None:
    _, s = _sifted(1.0, seed=2)
    # full attack: E_Z = E_X = 25 % (plus misalignment), on the separable boundary
    assert s.qber(Z_BASIS) > 0.2 and s.qber(X_BASIS) > 0.2
    w = entanglement_witness(s)
    assert not w.certified and w.chsh <= 2.0
    assert "entanglement not certified" in w.reason and "E_Z" in w.reason


def test_a_partial_attack_leaves_no_secret_key_even_where_entanglement_remains() -> None:
    _, s = _sifted(0.5, seed=3)
    assert 0.1 < s.qber(X_BASIS) < 0.17
    kl = bbm92_key_length(s.alice_key.size, s.disclosed[X_BASIS], s.errors[X_BASIS], int(0.6 * s.alice_key.size))
    assert kl.length == 0 and "no secret key" in kl.reason


def test_hoeffding_bound_shrinks_with_the_sample_and_never_undercuts_the_observation() -> None:
    assert hoeffding_upper(0, 0, 1e-9) == 1.0
    loose = hoeffding_upper(5, 100, 1e-9)
    tight = hoeffding_upper(500, 10_000, 1e-9)
    assert loose > tight > 0.05
    assert tight == pytest.approx(0.05 + math.sqrt(math.log(1e9) / 20_000))


def test_finite_key_length_follows_tlgr12_and_grows_to_its_asymptote() -> None:
    n, k = 10**6, 10**5
    kl = bbm92_key_length(n, k, phase_errors=2000, lambda_ec=150_000)
    mu = math.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(2 / 1e-10))
    h = -(0.02 + mu) * math.log2(0.02 + mu) - (0.98 - mu) * math.log2(0.98 - mu)
    expected = math.floor(n - n * h - 150_000 - (2 * math.log2(1e10) + 1) - 128)
    assert kl.length == expected and kl.mu == pytest.approx(mu)
    # per bit, longer blocks approach 1 − h(e) − leak
    small = bbm92_key_length(10**4, 10**3, 20, 1_500).length / 10**4
    large = bbm92_key_length(10**8, 10**7, 200_000, 15_000_000).length / 10**8
    assert small < kl.length / n < large < 1 - 0.1414 - 0.15 + 1e-3


def test_no_key_from_a_block_too_small_or_too_noisy_and_the_reason_is_given() -> None:
    assert bbm92_key_length(0, 0, 0, 0).reason.startswith("too few coincidences")
    noisy = bbm92_key_length(10**5, 10**4, 1200, 50_000)
    assert noisy.length == 0 and "phase error 12.00%" in noisy.reason
