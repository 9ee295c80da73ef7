"""Finite-key ([LCWXZ14] Eq. 1) key length on emulated 25 km blocks: how many pulses a positive length needs.

The default fiber preset (p_Z = 0.9 at both ends, decoy probability 0.1) gets too few X-basis weak-decoy
counts in 10^7 pulses for the Hoeffding bands of Lim et al., PRA 89, 022307 (2014): s_{X,1} = 0, φ = ½, ℓ = 0.
That is the statistics of those parameters, not a plumbing fault: the same code delivers a finite key from
10^7 pulses once the X basis and the decoy get more pulses, and the preset's own rates give ℓ > 0 at 10^9.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

import numpy as np
import pytest

from qkd.emulator import emulate_link
from qkd.physics.presets import link_preset
from qkd.postprocess.cascade import binary_entropy
from qkd.postprocess.estimate import decoy_bounds, gamma
from qkd.postprocess.finite_key import TAG_BITS, lim2014_length
from qkd.postprocess.link import CONFIRM_BITS, LinkPolicy
from qkd.runtime import run_link

PRESET = link_preset("snspd-fiber", 25)
BALANCED = replace(PRESET, source=replace(PRESET.source, intensity_probabilities=(0.5, 0.35, 0.15), p_z=0.5),
                   bob_p_z=0.5)


def test_finite_key_mode_delivers_identical_keys_from_ten_million_pulses_with_balanced_bases() -> None:
    block = emulate_link(BALANCED, 10**7, 11)
    sifted, est = block
    assert 0 < est.phase_error_upper < 0.15 and est.single_photon_lower > 0
    finite = asyncio.run(run_link([block], "fk", LinkPolicy(key_length="finite")))
    asym = asyncio.run(run_link([block], "asym", LinkPolicy(key_length="asymptotic")))
    r = finite.bob[0]
    assert r.status == "delivered", r.reason
    assert finite.alice_sink.keys[0][2] == finite.bob_sink.keys[0][2]
    assert r.verification is not None and r.verification["ok"] and r.verification["eps_ver"] <= 2.0**-64
    # every disclosed bit is in the length: λ_EC = Cascade's parities, plus the 128-bit verification tag
    kl = r.key_length
    assert kl is not None and r.cascade is not None
    assert kl["lambda_ec"] == r.cascade["disclosed_bits"] and r.disclosed_bits == kl["lambda_ec"] + TAG_BITS
    hand = (est.vacuum_lower + est.single_photon_lower - est.single_photon_lower * binary_entropy(kl["phase_error"])
            - kl["lambda_ec"] - 6 * math.log2(21 / 1e-10) - TAG_BITS)
    assert kl["length"] == math.floor(hand) > 0
    # delivered in whole bytes, less the 64-bit key-confirmation tag both ends exchanged and sacrificed
    assert r.length_bits == kl["length"] // 8 * 8 - CONFIRM_BITS
    # finite-size effects only cost key: below the asymptotic length of the same block
    assert asym.bob[0].status == "delivered" and r.length_bits < asym.bob[0].length_bits


def _length_at(rates: dict[str, np.ndarray], mus: np.ndarray, ps: np.ndarray, qber: float, n_pulses: float,
               eps_sec: float = 1e-10) -> tuple[int, float]:
    """[LCWXZ14] Eq. (1) on the expected counts of ``n_pulses`` pulses (per-pulse rates scaled)."""
    nz, nx = rates["z"] * n_pulses, rates["x"] * n_pulses
    s0, s1, _ = decoy_bounds(nz, None, mus, ps, eps_sec)
    _, s1x, v1x = decoy_bounds(nx, nx * qber, mus, ps, eps_sec)
    phi = 0.5
    if s1 > 0 and s1x > 0 and v1x is not None:
        ratio = min(max(v1x / s1x, 0.0), 0.5)
        phi = min(ratio + gamma(eps_sec, ratio, s1, s1x), 0.5)
    lam = int(1.1 * nz.sum() * binary_entropy(qber))
    return lim2014_length(s0, s1, phi, lam, eps_sec).length, phi


def test_the_default_fiber_preset_needs_hundreds_of_millions_of_pulses_for_a_finite_key() -> None:
    n0 = 10**7
    sifted, est = emulate_link(PRESET, n0, 7)
    assert est.phase_error_upper == 0.5 and est.single_photon_lower_x == 0   # the demo's observation
    mus = np.asarray(sifted.intensities, float)
    ps = np.asarray(sifted.intensity_probabilities, float)
    rates = {"z": np.bincount(sifted.key_intensity, minlength=3)[:3] / n0, "x": sifted.sifted[1] / n0}
    qber = float(sifted.errors[0].sum() / sifted.disclosed[0].sum())
    assert _length_at(rates, mus, ps, qber, 1e7) == (0, 0.5)
    assert _length_at(rates, mus, ps, qber, 1e8)[0] == 0
    ell9, phi9 = _length_at(rates, mus, ps, qber, 1e9)
    assert ell9 > 0 and phi9 < 0.15
    assert ell9 / 1e9 < est.key_rate_asymptotic     # and still below the asymptotic rate
    assert ell9 / 1e9 == pytest.approx(5.7e-3, rel=0.3)
