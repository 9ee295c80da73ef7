"""Weak coherent pulse source with decoy intensities and (optionally biased) basis choice.

A phase-randomised weak coherent pulse of mean photon number μ emits n photons with the Poisson
probability e^{-μ} μ^n / n! (Lo, Ma, Chen, PRL 94, 230504 (2005), Eq. 1). Decoy-state BB84 sends each
slot at one of a few intensities chosen at random with fixed probabilities; the signal intensity μ is
the largest. Efficient BB84 (Lo, Chau, Ardehali, J. Cryptology 18, 133 (2005)) biases the basis choice
towards the key basis Z; ``p_z = 0.5`` gives the original ½/½ protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qkd.errors import QkdError


class SourceConfigError(QkdError):
    """A source parameter is out of range (message names the parameter and value)."""


@dataclass(frozen=True)
class WeakCoherentSource:
    """Pulsed weak coherent source.

    ``intensities`` are mean photon numbers per pulse (photons), signal first and decreasing:
    ``(μ,)`` (no decoy), ``(μ, ν)`` (one decoy), ``(μ, ν, 0.0)`` (vacuum + weak decoy) or the general
    three-intensity form ``(μ, ν1, ν2)`` with μ > ν1 > ν2 ≥ 0. ``intensity_probabilities`` sum to 1.
    ``p_z`` is the probability of preparing in the Z (key) basis. ``intensity_fluctuation_rel`` is the
    relative standard deviation of the emitted mean photon number around its nominal value (a source
    imperfection; 0 = ideal), applied per pulse as a Gaussian factor clipped at zero.
    Defaults: 1 GHz clock, (0.5, 0.1, 0.0) with probabilities (0.8, 0.1, 0.1), p_z = 0.9.
    """

    clock_rate_hz: float = 1.0e9
    intensities: tuple[float, ...] = (0.5, 0.1, 0.0)
    intensity_probabilities: tuple[float, ...] = (0.8, 0.1, 0.1)
    p_z: float = 0.9
    intensity_fluctuation_rel: float = 0.0
    wavelength_nm: float = 1550.0

    def __post_init__(self) -> None:
        if self.clock_rate_hz <= 0:
            raise SourceConfigError(f"clock_rate_hz must be > 0, got {self.clock_rate_hz}")
        if not self.intensities or len(self.intensities) != len(self.intensity_probabilities):
            raise SourceConfigError(
                f"intensities {self.intensities} and intensity_probabilities "
                f"{self.intensity_probabilities} must be non-empty and of equal length")
        if len(self.intensities) > 3:
            raise SourceConfigError(f"at most 3 intensities are supported, got {len(self.intensities)}")
        if any(b >= a for a, b in zip(self.intensities, self.intensities[1:], strict=False)):
            raise SourceConfigError(f"intensities must be strictly decreasing, got {self.intensities}")
        if self.intensities[-1] < 0:
            raise SourceConfigError(f"intensities must be ≥ 0, got {self.intensities}")
        if any(p <= 0 for p in self.intensity_probabilities) or abs(sum(self.intensity_probabilities) - 1) > 1e-9:
            raise SourceConfigError(
                f"intensity_probabilities must be > 0 and sum to 1, got {self.intensity_probabilities}")
        if not 0 < self.p_z < 1:
            raise SourceConfigError(f"p_z must be in (0, 1), got {self.p_z}")
        if not 0 <= self.intensity_fluctuation_rel < 1:
            raise SourceConfigError(
                f"intensity_fluctuation_rel must be in [0, 1), got {self.intensity_fluctuation_rel}")

    @property
    def period_ps(self) -> float:
        """Slot period (ps)."""
        return 1e12 / self.clock_rate_hz

    @property
    def signal_intensity(self) -> float:
        """μ, the signal mean photon number (photons/pulse)."""
        return self.intensities[0]

    def photon_number_probability(self, n: int, intensity: float) -> float:
        """Poisson P(n | intensity) of a phase-randomised coherent state (Lo, Ma, Chen 2005, Eq. 1)."""
        return float(np.exp(-intensity) * intensity**n / np.prod(np.arange(1, n + 1, dtype=float)))
