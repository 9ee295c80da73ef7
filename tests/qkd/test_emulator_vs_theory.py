"""The emulator's measured gains and QBERs agree with the closed-form Q_μ, E_μ of Ma et al. 2005 over
0–150 km of fiber, within bounds derived from the sample sizes (5 standard deviations)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qkd.emulator import emulate_link
from qkd.physics.keyrate import error_rate, gain
from qkd.physics.presets import link_preset


@pytest.mark.parametrize("length_km", [0.0, 50.0, 100.0, 150.0])
def test_emulated_gains_and_qber_match_closed_form_within_statistical_error(length_km: float) -> None:
    link = link_preset("gys", length_km)    # GYS parameters; no dead time/afterpulsing, as in the theory
    lp = link.theory()
    eta = link.channel.mean_transmittance() * link.eta_bob
    mus = link.source.intensities
    ps = link.source.intensity_probabilities
    q_sig = float(gain(mus[0], eta, lp.y0))
    n = int(min(1.5e10, math.ceil(1.5e5 / (ps[0] * q_sig))))
    key, est = emulate_link(link, n, seed=1000 + int(length_km))
    # all errors: disclosed ones plus those in the key (the emulation knows both sides)
    key_err = np.bincount(key.key_intensity[key.alice_bits != key.bob_bits], minlength=3)
    key_n = np.bincount(key.key_intensity, minlength=3)
    for k, (mu, p) in enumerate(zip(mus, ps, strict=True)):
        q = float(gain(mu, eta, lp.y0))
        measured_q = key.detected[k] / (n * p)
        sd_q = math.sqrt(q * (1 - p * q) / (n * p))   # detections ~ Binomial(n, p·Q)
        assert abs(measured_q - q) < 5 * sd_q, (length_km, mu, measured_q, q)
        e = float(error_rate(mu, eta, lp.y0, lp.e_det))
        n_err = key.errors[:, k].sum() + key_err[k]
        n_tot = key.disclosed[:, k].sum() + key_n[k]
        assert n_tot == key.sifted[:, k].sum()
        sd_e = math.sqrt(e * (1 - e) / n_tot)
        assert abs(n_err / n_tot - e) < 5 * sd_e + 1e-12, (length_km, mu, n_err / n_tot, e)
    assert est.n_pulses == n
