"""End to end emulated link: emulator → detector events → sifting → parameter estimation.

This is the entry point the post-processing pipeline calls::

    from qkd.emulator import emulate_link
    sifted, estimate = emulate_link(link, n_pulses=10**8, seed=7)

``link`` is a :class:`qkd.physics.link.Link` (or a preset name, see :mod:`qkd.physics.presets`, with
``length_km``). ``sifted`` is a :class:`qkd.postprocess.sift.SiftedKey`, ``estimate`` a
:class:`qkd.postprocess.estimate.ParameterEstimate`. Set ``Link.intercept_resend_fraction`` to add an
intercept-resend eavesdropper (QBER rises by ≈ fraction/4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, overload

from qkd.events.emulate import DEFAULT_CHUNK_SLOTS, EmulatedRun, emulate
from qkd.physics.link import Link
from qkd.physics.presets import link_preset
from qkd.postprocess.estimate import ParameterEstimate, estimate
from qkd.postprocess.sift import SiftedKey, sift


@overload
def emulate_link(link: Link | str, n_pulses: int, seed: int, *, length_km: float = ...,
                 z_sample_fraction: float = ..., eps_sec: float = ..., f_ec: float = ...,
                 exact_sent_counts: bool = ..., chunk_slots: int = ...,
                 progress: Callable[[int], None] | None = ...,
                 return_run: Literal[False] = ...) -> tuple[SiftedKey, ParameterEstimate]: ...


@overload
def emulate_link(link: Link | str, n_pulses: int, seed: int, *, length_km: float = ...,
                 z_sample_fraction: float = ..., eps_sec: float = ..., f_ec: float = ...,
                 exact_sent_counts: bool = ..., chunk_slots: int = ...,
                 progress: Callable[[int], None] | None = ...,
                 return_run: Literal[True]) -> tuple[SiftedKey, ParameterEstimate, EmulatedRun]: ...


def emulate_link(link: Link | str, n_pulses: int, seed: int, *, length_km: float = 0.0,
                 z_sample_fraction: float = 0.05, eps_sec: float = 1e-10, f_ec: float = 1.16,
                 exact_sent_counts: bool = False, chunk_slots: int = DEFAULT_CHUNK_SLOTS,
                 progress: Callable[[int], None] | None = None,
                 return_run: bool = False) -> tuple[SiftedKey, ParameterEstimate] | tuple[
                     SiftedKey, ParameterEstimate, EmulatedRun]:
    """Emulate ``n_pulses`` slots of ``link`` with ``seed``, sift (with clock recovery) and estimate.

    Returns ``(SiftedKey, ParameterEstimate)`` (plus the raw :class:`EmulatedRun` with ``return_run``)."""
    if isinstance(link, str):
        link = link_preset(link, length_km)
    run = emulate(link, n_pulses, seed, chunk_slots=chunk_slots, progress=progress)
    key = sift(run.tags, run.tx, window_ps=link.window_ps, z_sample_fraction=z_sample_fraction, seed=seed,
               exact_sent_counts=exact_sent_counts)
    est = estimate(key, eps_sec=eps_sec, f_ec=f_ec)
    return (key, est, run) if return_run else (key, est)
