"""Optical fiber channel: exponential attenuation, insertion loss and polarisation/phase misalignment.

Transmittance η_ch = 10^{-(α L + L_extra)/10} with α in dB/km (Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005),
Sec. IV, η = η_Bob 10^{-αl/10}). Standard single-mode fiber at 1550 nm: α ≈ 0.2 dB/km (ITU-T G.652);
the GYS experiment's fiber is 0.21 dB/km.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qkd.errors import QkdError


class ChannelConfigError(QkdError):
    """A channel parameter is out of range (message names the parameter and value)."""


@dataclass(frozen=True)
class FiberChannel:
    """Fiber link of ``length_km`` with ``attenuation_db_per_km`` (default 0.2), ``insertion_loss_db``
    of connectors/components on top, and ``misalignment_error`` e_det: the probability that a photon
    arriving in the right basis is registered with the wrong bit (optical misalignment)."""

    length_km: float = 0.0
    attenuation_db_per_km: float = 0.2
    insertion_loss_db: float = 0.0
    misalignment_error: float = 0.01

    def __post_init__(self) -> None:
        for name in ("length_km", "attenuation_db_per_km", "insertion_loss_db"):
            if getattr(self, name) < 0:
                raise ChannelConfigError(f"{name} must be ≥ 0, got {getattr(self, name)}")
        if not 0 <= self.misalignment_error <= 0.5:
            raise ChannelConfigError(f"misalignment_error must be in [0, 0.5], got {self.misalignment_error}")

    @property
    def loss_db(self) -> float:
        """Total channel loss (dB)."""
        return self.attenuation_db_per_km * self.length_km + self.insertion_loss_db

    def mean_transmittance(self) -> float:
        """η_ch (dimensionless, 0..1)."""
        return float(10.0 ** (-self.loss_db / 10.0))

    def transmittance_windows(self, start_s: float, window_s: float, n_windows: int,
                              rng: np.random.Generator) -> np.ndarray:
        """η_ch in each of ``n_windows`` windows of ``window_s`` seconds: constant for fiber."""
        return np.full(n_windows, self.mean_transmittance())

    def background_probability(self, gate_width_ps: float) -> float:
        """Background (stray light) click probability per gate: none in a dark fiber."""
        return 0.0

    def with_length(self, length_km: float) -> FiberChannel:
        """The same fiber at another length (km)."""
        return FiberChannel(length_km, self.attenuation_db_per_km, self.insertion_loss_db,
                            self.misalignment_error)
