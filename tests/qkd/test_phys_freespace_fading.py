"""Turbulence in the emulator: one lognormal transmittance factor per fading window of a free-space link,
visible as excess variance of the detection counts per window (scintillation index e^{σ²} − 1)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from qkd.events.emulate import emulate
from qkd.physics.presets import link_preset

WINDOW_S = 1e-4     # 10⁵ slots at 1 GHz
N_WINDOWS = 300


def _counts_per_window(log_variance: float) -> tuple[np.ndarray, float]:
    base = link_preset("freespace-night")
    link = replace(base, channel=replace(base.channel, scintillation_log_variance=log_variance,
                                         fading_window_s=WINDOW_S),
                   detector=replace(base.detector, dead_time_ns=0.0))   # no dead-time losses: counts ∝ η
    period_ps = link.source.period_ps
    slots_per_window = int(round(WINDOW_S / (period_ps * 1e-12)))
    run = emulate(link, slots_per_window * N_WINDOWS, seed=41)
    window = ((run.tags.t_ps + period_ps / 2) // (slots_per_window * period_ps)).astype(np.int64)
    counts = np.bincount(window, minlength=N_WINDOWS)[:N_WINDOWS].astype(float)
    # expected signal clicks per window without fading (all intensities, all detectors)
    eta = link.channel.mean_transmittance() * link.eta_bob
    mean_click = sum(p * -math.expm1(-eta * mu) for mu, p in
                     zip(link.source.intensities, link.source.intensity_probabilities, strict=True))
    return counts, slots_per_window * mean_click


def test_each_fading_window_gets_its_own_lognormal_factor() -> None:
    sigma2 = 0.3
    counts, expected = _counts_per_window(sigma2)
    scint = counts.var() / counts.mean() ** 2 - 1 / counts.mean()    # remove the Poisson part
    assert scint == pytest.approx(math.exp(sigma2) - 1, rel=0.35)     # 300 windows: a few 10 % sampling error
    # the fading has mean 1: the average count is the unfaded expectation (lognormal sd √0.35/√300 ≈ 3.4 %)
    assert counts.mean() == pytest.approx(expected, rel=0.15)


def test_without_turbulence_the_counts_per_window_are_poissonian() -> None:
    counts, expected = _counts_per_window(0.0)
    assert counts.mean() == pytest.approx(expected, rel=0.02)
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.3)
