"""Single-photon detectors: efficiency, dark counts, dead time, afterpulsing, timing jitter, gating.

Click model of one detector per time slot (the emulator's model, [MQZL05] Sec. II for the
efficiency/dark-count part): a photon arriving at the detector is registered with probability
``efficiency``; independently the detector fires spuriously with the dark-count probability of the slot.
After every registered click the detector is blind for ``dead_time_ns``; with probability
``afterpulse_probability`` a click releases a trapped carrier that fires again after the dead time plus an
exponential delay of mean ``afterpulse_decay_ns`` (single-exponential trap model, Cova et al., "Trapping
phenomena in avalanche photodiodes on nanosecond scale", IEEE EDL 12, 685 (1991)). Timing jitter is a
Gaussian of standard deviation ``jitter_ps``. Gated detectors (InGaAs APDs) are only armed for
``gate_width_ps`` around each slot; free-running ones (SNSPDs) count dark events at ``dark_count_rate_hz``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qkd.errors import QkdError


class DetectorConfigError(QkdError):
    """A detector parameter is out of range (message names the parameter and value)."""


@dataclass(frozen=True)
class Detector:
    """One threshold single-photon detector. Units in the names; see the module docstring."""

    name: str = "ideal"
    efficiency: float = 1.0
    dark_count_probability: float = 0.0   # per gate (gated detectors)
    dark_count_rate_hz: float = 0.0       # counts/s (free-running detectors)
    dead_time_ns: float = 0.0
    afterpulse_probability: float = 0.0
    afterpulse_decay_ns: float = 100.0
    jitter_ps: float = 0.0
    gate_width_ps: float = 1000.0
    gated: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.efficiency <= 1:
            raise DetectorConfigError(f"detector {self.name}: efficiency must be in (0, 1], got {self.efficiency}")
        for name in ("dark_count_probability", "afterpulse_probability"):
            v = getattr(self, name)
            if not 0 <= v < 1:
                raise DetectorConfigError(f"detector {self.name}: {name} must be in [0, 1), got {v}")
        for name in ("dark_count_rate_hz", "dead_time_ns", "jitter_ps"):
            if getattr(self, name) < 0:
                raise DetectorConfigError(f"detector {self.name}: {name} must be ≥ 0, got {getattr(self, name)}")
        if self.gate_width_ps <= 0 or self.afterpulse_decay_ns <= 0:
            raise DetectorConfigError(f"detector {self.name}: gate_width_ps and afterpulse_decay_ns must be > 0")

    def dark_probability_per_slot(self, period_ps: float) -> float:
        """Probability of a dark click in one slot of ``period_ps``: the per-gate probability of a gated
        detector, or 1 − exp(−R·T) for a free-running one (dark events spread over the whole slot)."""
        if self.gated:
            return self.dark_count_probability
        return float(-math.expm1(-self.dark_count_rate_hz * period_ps * 1e-12))

    def registered_fraction(self, click_rate_hz: float) -> float:
        """Fraction of the clicks arriving at ``click_rate_hz`` (1/s) that a non-paralyzable detector with
        dead time τ registers: 1 / (1 + R·τ) (steady state; Rogers et al., "Detector dead-time effects and
        paralyzability in high-speed quantum key distribution", New J. Phys. 9, 319 (2007), Eq. 1).
        Afterpulses are not counted; for a gated detector it is an approximation (blind gates are whole)."""
        if click_rate_hz < 0:
            raise DetectorConfigError(f"detector {self.name}: click rate must be ≥ 0, got {click_rate_hz}")
        return 1.0 / (1.0 + click_rate_hz * self.dead_time_ns * 1e-9)

    def dark_probability_in_window(self, period_ps: float, window_ps: float) -> float:
        """Probability of a dark click that falls inside a coincidence window of ``window_ps`` (full width)."""
        if self.gated:
            return self.dark_count_probability * min(1.0, window_ps / self.gate_width_ps)
        return float(-math.expm1(-self.dark_count_rate_hz * min(window_ps, period_ps) * 1e-12))


INGAAS_APD_GATED = Detector(
    name="ingaas-apd", efficiency=0.10, dark_count_probability=1e-6, dead_time_ns=10.0,
    afterpulse_probability=0.04, afterpulse_decay_ns=50.0, jitter_ps=50.0, gate_width_ps=300.0, gated=True,
    source=("GHz-gated InGaAs/InP APD, representative values: Yuan et al., APL 91, 041114 (2007) "
            "(self-differencing, ~10 % efficiency, ~1e-6 dark counts/gate, few % afterpulsing); "
            "Zhang et al., Light Sci. Appl. 4, e286 (2015) review"))

SNSPD = Detector(
    name="snspd", efficiency=0.85, dark_count_rate_hz=100.0, dead_time_ns=40.0,
    afterpulse_probability=0.0, jitter_ps=30.0, gate_width_ps=1000.0, gated=False,
    source=("WSi/NbN SNSPD, representative values: Marsili et al., Nat. Photon. 7, 210 (2013) "
            "(93 % system efficiency at 1550 nm, ~1e2 counts/s dark, ~40 ns reset); no afterpulsing"))

DETECTOR_PRESETS = {d.name: d for d in (INGAAS_APD_GATED, SNSPD)}
