"""A whole emulated BB84 link: source + channel + receiver (detectors, basis choice, clock) + Eve.

The receiver uses passive basis choice with four identical detectors (Z/0, Z/1, X/0, X/1; detector
channel = basis·2 + bit). ``intercept_resend_fraction`` f is the fraction of signal slots on which an
eavesdropper measures in a random basis and resends what she saw; in BB84 this adds ≈ f/4 to the sifted
QBER (Bennett, Bessette, Brassard, Salvail, Smolin, J. Cryptology 5, 3 (1992), Sec. 5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from qkd.physics.detector import Detector
from qkd.physics.fiber import ChannelConfigError, FiberChannel
from qkd.physics.freespace import FreeSpaceChannel
from qkd.physics.keyrate import LinkParameters
from qkd.physics.source import WeakCoherentSource

N_DETECTORS = 4


@dataclass(frozen=True)
class Link:
    """Emulated link. ``bob_p_z``: probability that Bob's passive splitter sends a photon to the Z
    detectors. ``receiver_efficiency``: optics transmittance inside Bob before the detectors.
    ``window_ps``: coincidence window (full width) of sifting. ``clock_offset_ps`` / ``clock_drift_ppm``:
    the receiver clock is t_rx = t·(1 + drift·1e-6) + offset relative to the transmitter's slot clock."""

    source: WeakCoherentSource = WeakCoherentSource()
    channel: FiberChannel | FreeSpaceChannel = FiberChannel()
    detector: Detector = Detector()
    bob_p_z: float = 0.9
    receiver_efficiency: float = 1.0
    window_ps: float = 400.0
    clock_offset_ps: float = 0.0
    clock_drift_ppm: float = 0.0
    intercept_resend_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.bob_p_z < 1:
            raise ChannelConfigError(f"bob_p_z must be in (0, 1), got {self.bob_p_z}")
        if not 0 < self.receiver_efficiency <= 1:
            raise ChannelConfigError(f"receiver_efficiency must be in (0, 1], got {self.receiver_efficiency}")
        if not 0 < self.window_ps <= self.source.period_ps:
            raise ChannelConfigError(
                f"window_ps must be in (0, period {self.source.period_ps} ps], got {self.window_ps}")
        if not 0 <= self.intercept_resend_fraction <= 1:
            raise ChannelConfigError(
                f"intercept_resend_fraction must be in [0, 1], got {self.intercept_resend_fraction}")

    @property
    def eta_bob(self) -> float:
        """Receiver transmittance × detector efficiency."""
        return self.receiver_efficiency * self.detector.efficiency

    def background_probability_per_detector(self) -> float:
        """Spurious click probability per slot per detector: dark counts plus background light
        (background light shared evenly over the four detectors)."""
        period = self.source.period_ps
        width = self.detector.gate_width_ps if self.detector.gated else period
        return (self.detector.dark_probability_per_slot(period)
                + self.channel.background_probability(width) / N_DETECTORS)

    def y0_in_window(self) -> float:
        """Y₀: probability per slot of a background click inside the coincidence window, all detectors."""
        period = self.source.period_ps
        width = self.detector.gate_width_ps if self.detector.gated else period
        frac = min(1.0, self.window_ps / width)
        return N_DETECTORS * self.background_probability_per_detector() * frac

    def theory(self, name: str = "link", f_ec: float = 1.16) -> LinkParameters:
        """The [MQZL05] parameters of this link (fiber: α and insertion loss; free space: its mean loss as
        insertion loss at zero length). q = p_z·bob_p_z (key from matched Z bases only)."""
        if isinstance(self.channel, FiberChannel):
            alpha, extra = self.channel.attenuation_db_per_km, self.channel.insertion_loss_db
        else:
            alpha, extra = 0.0, self.channel.loss_db
        return LinkParameters(name, alpha, self.channel.misalignment_error, self.y0_in_window(), self.eta_bob,
                              f_ec, self.source.p_z * self.bob_p_z, extra)

    def dead_time_survival(self) -> float:
        """Fraction of all clicks the four detectors' dead time lets through (steady state, closed form).

        Photons detected per slot are Poisson with mean η·μ_k (η = channel transmittance × receiver ×
        efficiency; free space at its mean loss). The passive splitter and the bit value route each photon
        to detector d with probability w_d (bob_p_z/2 for each Z detector, (1 − bob_p_z)/2 for each X
        detector), so by Poisson thinning detector d clicks in a slot with probability
        p_d = Σ_k p_k (1 − e^(−η μ_k w_d)) + its background probability, i.e. at R_d = p_d · clock rate,
        and registers R_d / (1 + R_d τ) (:meth:`Detector.registered_fraction`). Returns
        Σ_d R_d / (1 + R_d τ) / Σ_d R_d. Dead time removes signal and background clicks alike, so every
        gain, and to first order the key rate, scales by this factor while the error rates do not change.
        """
        eta = self.channel.mean_transmittance() * self.eta_bob
        src = self.source
        background = self.background_probability_per_detector()
        weights = (self.bob_p_z / 2, self.bob_p_z / 2, (1 - self.bob_p_z) / 2, (1 - self.bob_p_z) / 2)
        incident = registered = 0.0
        for w in weights:
            p_click = sum(p_k * -math.expm1(-eta * mu_k * w)
                          for p_k, mu_k in zip(src.intensity_probabilities, src.intensities, strict=True)) + background
            rate_hz = min(p_click, 1.0) * src.clock_rate_hz
            incident += rate_hz
            registered += rate_hz * self.detector.registered_fraction(rate_hz)
        return registered / incident if incident > 0 else 1.0

    def with_channel(self, channel: FiberChannel | FreeSpaceChannel) -> Link:
        return replace(self, channel=channel)
