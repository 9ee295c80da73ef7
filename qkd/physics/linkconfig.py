"""TOML link configuration (pydantic v2, unknown keys rejected) → :class:`qkd.physics.link.Link`.

A config starts from a named preset (:mod:`qkd.physics.presets`) and overrides parts of it; see
``deploy/examples/qkd-link-fiber.toml`` and ``deploy/examples/qkd-link-freespace.toml``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qkd.physics.detector import DETECTOR_PRESETS
from qkd.physics.fiber import FiberChannel
from qkd.physics.freespace import FreeSpaceChannel
from qkd.physics.link import Link
from qkd.physics.presets import PRESET_NAMES, link_preset


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceModel(_Strict):
    clock_rate_hz: float | None = Field(None, gt=0)
    intensities: list[float] | None = None
    intensity_probabilities: list[float] | None = None
    p_z: float | None = Field(None, gt=0, lt=1)
    intensity_fluctuation_rel: float | None = Field(None, ge=0, lt=1)


class ChannelModel(_Strict):
    kind: Literal["fiber", "free-space"] = "fiber"
    length_km: float | None = Field(None, ge=0)
    attenuation_db_per_km: float | None = Field(None, ge=0)
    insertion_loss_db: float | None = Field(None, ge=0)
    misalignment_error: float | None = Field(None, ge=0, le=0.5)
    distance_m: float | None = Field(None, gt=0)
    elevation_deg: float | None = Field(None, gt=0, le=90)
    background_rate_hz: float | None = Field(None, ge=0)
    scintillation_log_variance: float | None = Field(None, ge=0)
    fading_window_s: float | None = Field(None, gt=0)


class DetectorModel(_Strict):
    preset: str | None = None
    efficiency: float | None = Field(None, gt=0, le=1)
    dark_count_probability: float | None = Field(None, ge=0, lt=1)
    dark_count_rate_hz: float | None = Field(None, ge=0)
    dead_time_ns: float | None = Field(None, ge=0)
    afterpulse_probability: float | None = Field(None, ge=0, lt=1)
    afterpulse_decay_ns: float | None = Field(None, gt=0)
    jitter_ps: float | None = Field(None, ge=0)


class ReceiverModel(_Strict):
    bob_p_z: float | None = Field(None, gt=0, lt=1)
    window_ps: float | None = Field(None, gt=0)
    clock_offset_ps: float | None = None
    clock_drift_ppm: float | None = None


class EveModel(_Strict):
    intercept_resend_fraction: float = Field(0.0, ge=0, le=1)


class LinkConfig(_Strict):
    """Top level of a link TOML file."""

    preset: str = "ingaas-fiber"
    seed: int = 1
    seconds: float = Field(0.01, gt=0)
    source: SourceModel = SourceModel()
    channel: ChannelModel = ChannelModel()
    detector: DetectorModel = DetectorModel()
    receiver: ReceiverModel = ReceiverModel()
    eve: EveModel = EveModel()

    def to_link(self) -> Link:
        """Build the :class:`Link`: the preset, then every key given here."""
        if self.preset not in PRESET_NAMES:
            raise ValueError(f"unknown preset {self.preset!r}; known: {', '.join(PRESET_NAMES)}")
        link = link_preset(self.preset, self.channel.length_km or 0.0)

        def given(model: BaseModel, skip: tuple[str, ...] = ()) -> dict[str, Any]:
            """The keys set in ``model`` (a field dump: values of each field's own type, hence ``Any``)."""
            return {k: v for k, v in model.model_dump().items() if v is not None and k not in skip}

        src = given(self.source)
        for k in ("intensities", "intensity_probabilities"):
            if k in src:
                src[k] = tuple(src[k])
        source = replace(link.source, **src)
        ch = self.channel
        if ch.kind == "fiber":
            base = link.channel if isinstance(link.channel, FiberChannel) else FiberChannel()
            channel: FiberChannel | FreeSpaceChannel = replace(base, **given(
                ch, ("kind", "distance_m", "elevation_deg", "background_rate_hz", "scintillation_log_variance",
                     "fading_window_s")))
        else:
            base_fs = link.channel if isinstance(link.channel, FreeSpaceChannel) else FreeSpaceChannel()
            channel = replace(base_fs, **given(ch, ("kind", "length_km", "attenuation_db_per_km",
                                                    "insertion_loss_db")))
        det_fields = given(self.detector, ("preset",))
        det = DETECTOR_PRESETS[self.detector.preset] if self.detector.preset else link.detector
        if self.detector.preset and self.detector.preset not in DETECTOR_PRESETS:
            raise ValueError(f"unknown detector preset {self.detector.preset!r}")
        detector = replace(det, **det_fields)
        rx = given(self.receiver)
        return replace(link, source=source, channel=channel, detector=detector,
                       intercept_resend_fraction=self.eve.intercept_resend_fraction, **rx)
