"""``qshift qkd``: physics, emulated links, time-tag files, key rate theory.

Commands: ``keyrate`` (closed-form decoy BB84 vs distance with the PLOB bound, table + plot),
``simulate`` (emulate → sift → estimate), ``emulate`` (write time tags + transmitter record),
``sift`` (real or emulated files), ``satellite-pass`` (loss vs time of a pass). Results are data first
(``--json`` prints it), rendering second (rich).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from qkd.errors import QkdError
from qkd.events.record import load_transmitter
from qshift import jsonout
from qshift.commands import JSON_HELP
from qshift.commands.qkd_plan import app as plan_app
from qshift.commands.qkd_run import app as run_app
from qshift.errors import InputError
from qshift.output import atomic_outputs, check_input, check_output

app = typer.Typer(help="QKD: emulated links, detector events, key rate theory, post-processing.",
                  no_args_is_help=True)
app.add_typer(run_app)
app.add_typer(plan_app)

DEFAULT_DISTANCES = "0,25,50,75,100,125,150,175,200"
PLOT_SUFFIXES = (".png", ".svg", ".pdf")
TIMETAG_OUT_SUFFIXES = (".qtt", ".ptu", ".qtag", ".csv")
TIMETAG_IN_SUFFIXES = (".qtt", ".ptu", ".qtag", ".bin", ".csv")
TRANSMITTER_SUFFIXES = (".npz", ".json")
SECONDS_HELP = "emulated link time (s): pulses = seconds × clock rate (default 0.01 or the config's)"


class QkdCliError(QkdError):
    """A ``qshift qkd`` command cannot run with the given inputs."""


def _console() -> Console:
    return Console(stderr=False)


def _print_json(data: Any) -> None:
    typer.echo(jsonout.dumps(data))


def _require(ok: bool, option: str, message: str) -> None:
    """A range check of an option value: a usage error (one line, exit 2) naming the option."""
    if not ok:
        raise typer.BadParameter(message, param_hint=option)


# -- keyrate ---------------------------------------------------------------------------------------------
def keyrate_report(preset: str, decoy: str, nu: float, distances: list[float]) -> dict[str, Any]:
    """Data of ``qshift qkd keyrate``: the curve and summary of one preset and decoy method."""
    from qkd.physics.keyrate import key_rate_curve
    from qkd.physics.presets import theory_preset

    try:
        link = theory_preset(preset)
    except KeyError as exc:
        raise QkdCliError(str(exc.args[0])) from None
    curve = key_rate_curve(link, distances, decoy, nu)
    d = curve.to_dict()
    d["preset"] = preset
    return jsonout.standard(d)


def plot_keyrate(reports: list[dict[str, Any]], path: Path) -> None:
    """Key rate vs distance (log scale) for each report, with the PLOB bound, to ``path`` (PNG/SVG/PDF)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for rep in reports:
        dist = np.asarray(rep["distances_km"], dtype=float)
        rate = np.asarray([r or 0.0 for r in rep["rates_bits_per_pulse"]], dtype=float)
        ok = rate > 0
        ax.semilogy(dist[ok], rate[ok], label=f"{rep['preset']} ({rep['decoy']} decoy)")
    drawn: list[list[Any]] = []
    styles = ["k--", "k:", "k-.", "k--"]
    for rep in reports:   # one PLOB curve per distinct channel (presets may differ in loss)
        plob = [b if b is not None else np.inf for b in rep["plob_bits_per_pulse"]]
        if any(plob == d for d in drawn):
            continue
        label = "PLOB bound −log₂(1−η)" + (f" ({rep['preset']})" if len(reports) > 1 else "")
        ax.semilogy(rep["distances_km"], plob, styles[len(drawn) % len(styles)], label=label)
        drawn.append(plob)
    free_space = any(rep["link"].get("channel") for rep in reports)
    ax.set_xlabel("distance (km): fiber length or free-space range" if free_space else "fiber length (km)")
    ax.set_ylabel("secret key rate (bits per pulse)")
    ax.set_title("Decoy-state BB84 key rate vs distance (Ma et al. 2005)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@app.command()
def keyrate(
    preset: Annotated[list[str], typer.Option("--preset", help="gys | lim2014 | ingaas-fiber | snspd-fiber | "
                                              "freespace-night | freespace-day (repeat to compare)")] = ["gys"],  # noqa: B006
    decoy: Annotated[str, typer.Option(help="infinite | vacuum-weak")] = "infinite",
    nu: Annotated[float, typer.Option(min=0.0, max=1.0,
                                      help="weak decoy intensity for vacuum-weak (photons/pulse)")] = 0.05,
    distances_km: Annotated[str, typer.Option("--distances-km", help="comma-separated distances (km, ≥ 0)")
                            ] = DEFAULT_DISTANCES,
    plot: Annotated[Path | None, typer.Option(help="write key rate vs distance to this image (.png, .svg, .pdf)")
                    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Asymptotic decoy-state BB84 key rate vs distance with optimised μ, maximum distance, PLOB bound."""
    _require(0 < nu < 1, "--nu", f"{nu}: expected 0 < ν < 1 photons/pulse")
    if decoy not in ("infinite", "vacuum-weak"):
        raise typer.BadParameter("expected infinite or vacuum-weak", param_hint="--decoy")
    try:
        distances = [float(x) for x in distances_km.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter("expected comma-separated numbers", param_hint="--distances-km") from None
    if not distances or any(not math.isfinite(d) or d < 0 for d in distances):
        raise typer.BadParameter("expected one or more distances ≥ 0 km", param_hint="--distances-km")
    if plot is not None:
        check_output(plot, "--plot", suffixes=PLOT_SUFFIXES)
    reports = [keyrate_report(p, decoy, nu, distances) for p in preset]
    if plot is not None:
        top = max(max(distances), max(r["max_distance_km"] or 0 for r in reports) * 1.1)
        dense = [float(x) for x in np.linspace(0.0, top, 120)]
        with atomic_outputs(plot) as (temp,):
            plot_keyrate([keyrate_report(p, decoy, nu, dense) for p in preset], temp)
    if json_out:
        _print_json(reports if len(reports) > 1 else reports[0])
        return
    con = _console()
    for rep in reports:
        t = Table(title=f"{rep['preset']}: {rep['decoy']} decoy — max distance {rep['max_distance_km']:.1f} km")
        for col in ("km", "rate (bits/pulse)", "optimal μ", "PLOB (bits/pulse)"):
            t.add_column(col, justify="right")
        for d, r, m, b in zip(rep["distances_km"], rep["rates_bits_per_pulse"], rep["optimal_mu"],
                              rep["plob_bits_per_pulse"], strict=True):
            t.add_row(f"{d:g}", f"{r:.3e}", f"{m:.3f}" if r else "-", "∞" if b is None else f"{b:.3e}")
        con.print(t)
    if plot is not None:
        con.print(f"plot written to {plot}")


# -- simulate / emulate / sift -------------------------------------------------------------------------
def _load_link(config: Path | None, preset: str, channel: str, length_km: float, seconds: float | None,
               seed: int | None, eve: float | None, offset_ps: float | None,
               drift_ppm: float | None) -> tuple[Any, int, int]:
    """The link to emulate (from ``config`` or ``preset``), its number of slots and the seed."""
    from dataclasses import replace

    from qkd.physics.link import Link
    from qkd.physics.linkconfig import LinkConfig
    from qkd.physics.presets import PRESET_NAMES, link_preset

    if config is not None:
        from qshift.config import load_config

        check_input(config, "--config", suffixes=(".toml",))
        cfg = load_config(config, LinkConfig)
        try:
            link: Link = cfg.to_link()
        except ValueError as exc:
            raise QkdCliError(f"{config}: {exc}") from None
        secs, sd = cfg.seconds, cfg.seed
    else:
        if preset not in PRESET_NAMES:
            raise typer.BadParameter(f"unknown preset; known: {', '.join(PRESET_NAMES)}", param_hint="--preset")
        if channel == "free-space" and not preset.startswith("freespace"):
            preset = "freespace-night"
        link = link_preset(preset, length_km)
        secs, sd = 0.01, 1
    if seconds is not None:
        secs = seconds
    if seed is not None:
        sd = seed
    changes: dict[str, Any] = {}
    if eve is not None:
        changes["intercept_resend_fraction"] = eve
    if offset_ps is not None:
        changes["clock_offset_ps"] = offset_ps
    if drift_ppm is not None:
        changes["clock_drift_ppm"] = drift_ppm
    link = replace(link, **changes)
    if not math.isfinite(secs) or secs <= 0:
        raise typer.BadParameter(f"{secs} s: expected emulated link time > 0 s", param_hint="--seconds")
    n_slots = int(round(secs * link.source.clock_rate_hz))
    if n_slots < 1000:
        raise typer.BadParameter(f"{secs} s at {link.source.clock_rate_hz:g} Hz is under 1000 slots",
                                 param_hint="--seconds")
    return link, n_slots, sd


def _progress(n_slots: int, enabled: bool) -> tuple[Any, Any]:
    if not enabled:
        return None, None
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    prog = Progress(TextColumn("emulating"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                    TimeRemainingColumn(), transient=True)
    task = prog.add_task("emulate", total=n_slots)
    return prog, (lambda done: prog.update(task, completed=done))


def simulate_report(key: Any, est: Any, link: Any, seed: int, theory_check: bool = True) -> dict[str, Any]:
    """Data of ``qshift qkd simulate``: measured statistics next to the closed-form expectations."""
    from qkd.physics.keyrate import error_rate, gain

    lp = link.theory()
    eta = link.channel.mean_transmittance() * link.eta_bob
    expected = {"gains": [float(gain(m, eta, lp.y0)) for m in link.source.intensities],
                "qber": [float(error_rate(m, eta, lp.y0, lp.e_det)) for m in link.source.intensities]}
    return jsonout.standard({"seed": seed, "n_pulses": key.n_slots, "link": repr(link), "sifted": key.summary(),
                   "estimate": est.to_dict(), "expected_closed_form": expected,
                   "channel_loss_db": -10 * math.log10(link.channel.mean_transmittance())})


@app.command()
def simulate(
    channel: Annotated[str, typer.Option(help="fiber | free-space")] = "fiber",
    length_km: Annotated[float, typer.Option("--length-km", min=0.0, help="fiber length (km)")] = 50.0,
    seconds: Annotated[float | None, typer.Option(help=SECONDS_HELP)] = None,
    preset: Annotated[str, typer.Option(help="link preset")] = "ingaas-fiber",
    config: Annotated[Path | None, typer.Option(help="link TOML (deploy/examples/qkd-link-*.toml)")] = None,
    seed: Annotated[int | None, typer.Option(help="emulator seed (recorded in the output)")] = None,
    eve: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="intercept-resend fraction 0..1")] = None,
    clock_offset_ps: Annotated[float | None, typer.Option(help="receiver clock offset (ps)")] = None,
    clock_drift_ppm: Annotated[float | None, typer.Option(help="receiver clock drift (ppm)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Emulate a link, sift (recovering the clock) and estimate: QBER, gains, decoy bounds, key rate."""
    from qkd.emulator import emulate_link

    if channel not in ("fiber", "free-space"):
        raise typer.BadParameter("expected fiber or free-space", param_hint="--channel")
    link, n_slots, sd = _load_link(config, preset, channel, length_km, seconds, seed, eve, clock_offset_ps,
                                   clock_drift_ppm)
    prog, cb = _progress(n_slots, not json_out and sys.stderr.isatty())
    if prog is not None:
        with prog:
            key, est = emulate_link(link, n_slots, sd, progress=cb)[:2]
    else:
        key, est = emulate_link(link, n_slots, sd)[:2]
    rep = simulate_report(key, est, link, sd)
    if json_out:
        _print_json(rep)
        return
    con = _console()
    e = rep["estimate"]
    t = Table(title=f"emulated {n_slots:.3g} pulses, seed {sd}, channel loss {rep['channel_loss_db']:.2f} dB")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_column("closed form (no afterpulsing/dead time)", justify="right")
    for k, (g, eg) in enumerate(zip(e["gains"], rep["expected_closed_form"]["gains"], strict=True)):
        t.add_row(f"gain Q (intensity {e['intensities'][k]:g})", f"{g:.4e}", f"{eg:.4e}")
    t.add_row("QBER Z (sample)", f"{(e['qber_z'] or 0):.4f}", f"{rep['expected_closed_form']['qber'][0]:.4f}")
    t.add_row("QBER X", f"{(e['qber_x'] or 0):.4f}", "")
    t.add_row("key bits (Z sifted)", str(e["n_sifted"]), "")
    t.add_row("single-photon key bits ≥", str(e["single_photon_lower"]), "")
    t.add_row("vacuum key bits ≥", str(e["vacuum_lower"]), "")
    t.add_row("phase error ≤", f"{e['phase_error_upper']:.4f}", "")
    t.add_row("asymptotic key rate (bits/pulse)", f"{e['key_rate_asymptotic']:.3e}", "")
    c = rep["sifted"]["clock"]
    t.add_row("recovered clock offset / drift", f"{c['offset_ps']:.1f} ps / {c['drift_ppm']:.4f} ppm", "")
    con.print(t)


@app.command()
def emulate(
    out: Annotated[Path, typer.Option(help="time-tag output (.qtt, .ptu, .qtag, .csv)")],
    tx_out: Annotated[Path, typer.Option("--tx-out", help="transmitter record: .npz (per slot) or .json "
                                         "(Philox descriptor)")],
    length_km: Annotated[float, typer.Option("--length-km", min=0.0, help="fiber length (km)")] = 50.0,
    seconds: Annotated[float | None, typer.Option(help=SECONDS_HELP)] = None,
    preset: Annotated[str, typer.Option(help="link preset")] = "ingaas-fiber",
    config: Annotated[Path | None, typer.Option(help="link TOML (deploy/examples/qkd-link-*.toml)")] = None,
    seed: Annotated[int | None, typer.Option(help="emulator seed (recorded in the output)")] = None,
    clock_offset_ps: Annotated[float | None, typer.Option(help="receiver clock offset (ps)")] = None,
    clock_drift_ppm: Annotated[float | None, typer.Option(help="receiver clock drift (ppm)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Emulate a link and write the receiver's time tags and the transmitter's record to files.

    Both files appear together, complete, or not at all (an error or Ctrl-C leaves neither)."""
    from qkd.events.emulate import emulate as run_emulator
    from qkd.events.formats import write_csv, write_native, write_ptu, write_qutag
    from qkd.events.record import ArrayTransmitterRecord

    check_output(out, "--out", suffixes=TIMETAG_OUT_SUFFIXES)
    check_output(tx_out, "--tx-out", suffixes=TRANSMITTER_SUFFIXES)
    if out.resolve() == tx_out.resolve():
        raise InputError(f"--out {out} and --tx-out {tx_out}: the same file")
    link, n_slots, sd = _load_link(config, preset, "fiber", length_km, seconds, seed, None, clock_offset_ps,
                                   clock_drift_ppm)
    if tx_out.suffix.lower() == ".npz" and n_slots > 50_000_000:
        raise InputError(f"--tx-out {tx_out}: {n_slots} slots are too many for a per-slot .npz; use .json")
    run = run_emulator(link, n_slots, sd)
    if run.tags.t_ps.size and run.tags.t_ps[0] < 0:
        raise QkdCliError(f"--out {out}: negative time tags (clock offset); use a positive --clock-offset-ps")
    with atomic_outputs(out, tx_out) as (out_temp, tx_temp):
        writers = {".qtt": lambda: write_native(out_temp, run.tags, provenance=run.tags.meta),
                   ".ptu": lambda: write_ptu(out_temp, run.tags), ".qtag": lambda: write_qutag(out_temp, run.tags),
                   ".csv": lambda: write_csv(out_temp, run.tags)}
        writers[out.suffix.lower()]()
        if tx_out.suffix.lower() == ".json":
            tx_temp.write_text(json.dumps(run.tx.describe(), indent=2))
        else:
            slots = np.arange(n_slots, dtype=np.int64)
            b, v, i = run.tx.at(slots)
            ArrayTransmitterRecord(b, v, i, run.tx.period_ps, run.tx.intensities, run.tx.intensity_probabilities,
                                   run.tx.p_z).save(tx_temp)
    rep = {"seed": sd, "n_slots": n_slots, "n_tags": len(run.tags), "out": str(out), "tx_out": str(tx_out),
           "window_ps": link.window_ps, "stats": vars(run.stats)}
    if json_out:
        _print_json(rep)
    else:
        _console().print(f"wrote {len(run.tags)} tags to {out}, transmitter record to {tx_out} (seed {sd})")


def _parse_channel_map(text: str) -> dict[int, tuple[int, int]]:
    out = {}
    for item in text.split(","):
        try:
            ch, label = item.split(":")
            basis = {"Z": 0, "X": 1}[label.strip()[0].upper()]
            out[int(ch)] = (basis, int(label.strip()[1]))
        except (ValueError, KeyError, IndexError):
            raise typer.BadParameter(f"bad entry {item!r}: expected CH:Z0|Z1|X0|X1",
                                     param_hint="--channel-map") from None
    return out


@app.command()
def sift(
    tx: Annotated[Path, typer.Option(help="transmitter record (.npz or .json)")],
    rx: Annotated[Path, typer.Option(help="receiver time tags (.ptu, .qtag/.bin, .qtt, .csv)")],
    window_ps: Annotated[float, typer.Option("--window-ps", min=0.0,
                                             help="coincidence window (ps)")] = 300.0,
    channel_map: Annotated[str, typer.Option(help="detector channels → basis/bit")] = "0:Z0,1:Z1,2:X0,3:X1",
    z_sample_fraction: Annotated[float, typer.Option(min=0.0, max=1.0,
                                                     help="fraction of Z bits disclosed for QBER")] = 0.05,
    max_drift_ppm: Annotated[float, typer.Option(min=0.0, help="clock drift search range (ppm)")] = 50.0,
    seed: Annotated[int, typer.Option(help="seed of the multi-click choice and QBER sample")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Sift real (or emulated) files: clock recovery, slot assignment, basis sifting, estimation."""
    from qkd.events.formats import read_timetags
    from qkd.postprocess.estimate import estimate
    from qkd.postprocess.sift import sift as do_sift

    _require(window_ps > 0, "--window-ps", f"{window_ps}: expected a window > 0 ps")
    _require(0 < z_sample_fraction < 1, "--z-sample-fraction", f"{z_sample_fraction}: expected 0 < fraction < 1")
    check_input(tx, "--tx", suffixes=TRANSMITTER_SUFFIXES)
    check_input(rx, "--rx", suffixes=TIMETAG_IN_SUFFIXES)
    channels = _parse_channel_map(channel_map)
    record = load_transmitter(tx)
    tags = read_timetags(rx)
    key = do_sift(tags, record, window_ps=window_ps, z_sample_fraction=z_sample_fraction,
                  channel_map=channels, seed=seed, max_drift_ppm=max_drift_ppm)
    est = estimate(key)
    rep = jsonout.standard({"tx": str(tx), "rx": str(rx), "sifted": key.summary(), "estimate": est.to_dict()})
    if json_out:
        _print_json(rep)
        return
    t = Table(title=f"sifted {rx.name} against {tx.name}")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    for k in ("n_sifted", "qber_z", "qber_x", "phase_error_upper", "single_photon_lower", "vacuum_lower"):
        t.add_row(k, str(rep["estimate"][k]))
    c = rep["sifted"]["clock"]
    t.add_row("clock offset / drift", f"{c['offset_ps']:.1f} ps / {c['drift_ppm']:.4f} ppm")
    _console().print(t)


def satellite_pass_report(altitude_km: float, min_elevation_deg: float, points: int,
                          preset: str) -> dict[str, Any]:
    """Data of ``qshift qkd satellite-pass``: elevation, slant range, loss and the asymptotic decoy-state key
    rate (μ optimised, [MQZL05] infinite decoys) at each time of a zenith pass, with the free-space
    ``preset``'s optics, detectors and background; ``secret_bits_per_pass`` integrates rate × clock rate
    over the pass (trapezoid rule)."""
    from dataclasses import replace

    from qkd.physics.freespace import SatellitePass
    from qkd.physics.keyrate import FreeSpaceLinkParameters, optimal_mu
    from qkd.physics.presets import link_preset, theory_preset

    if not preset.startswith("freespace"):
        raise QkdCliError(f"preset {preset!r} is not a free-space preset (freespace-night, freespace-day)")
    try:
        lp = theory_preset(preset)
    except KeyError as exc:
        raise QkdCliError(str(exc.args[0])) from None
    if not isinstance(lp, FreeSpaceLinkParameters):
        raise QkdCliError(f"preset {preset!r} has no free-space channel")
    clock_hz = link_preset(preset).source.clock_rate_hz
    sat = SatellitePass(altitude_m=altitude_km * 1e3, min_elevation_deg=min_elevation_deg, channel=lp.channel)
    prof = sat.profile(points)
    rows = []
    for t, e, r, lo in zip(prof["t_s"], prof["elevation_deg"], prof["slant_range_m"], prof["loss_db"], strict=True):
        at = replace(lp, channel=replace(lp.channel, elevation_deg=float(min(max(e, 1e-3), 90.0))))
        mu, rate = optimal_mu(at, float(r) / 1e3)
        rows.append({"t_s": float(t), "elevation_deg": float(e), "slant_range_km": float(r) / 1e3,
                     "loss_db": float(lo), "key_rate_bits_per_pulse": float(rate),
                     "optimal_mu": float(mu) if rate > 0 else None})
    ts = np.array([row["t_s"] for row in rows])
    bps = np.array([row["key_rate_bits_per_pulse"] for row in rows]) * clock_hz
    total = float(((bps[1:] + bps[:-1]) / 2 * np.diff(ts)).sum()) if len(rows) > 1 else 0.0
    return {"preset": preset, "altitude_km": altitude_km, "min_elevation_deg": min_elevation_deg,
            "clock_rate_hz": clock_hz, "rows": rows, "secret_bits_per_pass": total}


@app.command("satellite-pass")
def satellite_pass(
    altitude_km: Annotated[float, typer.Option("--altitude-km", min=100.0, max=40_000.0,
                                               help="orbit altitude (km)")] = 500.0,
    min_elevation_deg: Annotated[float, typer.Option("--min-elevation-deg", min=0.0, max=90.0,
                                                     help="elevation mask: the pass starts and ends here (°)")
                                 ] = 10.0,
    points: Annotated[int, typer.Option(min=2, max=10_000, help="times sampled over the pass")] = 11,
    preset: Annotated[str, typer.Option(help="freespace-night | freespace-day")] = "freespace-night",
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Elevation, slant range, channel loss and asymptotic key rate over a zenith satellite pass."""
    _require(min_elevation_deg < 90, "--min-elevation-deg", f"{min_elevation_deg}: expected a mask below 90°")
    rep = satellite_pass_report(altitude_km, min_elevation_deg, points, preset)
    if json_out:
        _print_json(jsonout.standard(rep))
        return
    t = Table(title=f"satellite pass, {altitude_km:g} km orbit, mask {min_elevation_deg:g}°, {preset}: "
                    f"{rep['secret_bits_per_pass']:.3g} secret bits per pass (asymptotic)")
    for col in ("t (s)", "elevation (°)", "range (km)", "loss (dB)", "key rate (bits/pulse)"):
        t.add_column(col, justify="right")
    for r in rep["rows"]:
        t.add_row(f"{r['t_s']:.0f}", f"{r['elevation_deg']:.1f}", f"{r['slant_range_km']:.0f}", f"{r['loss_db']:.1f}",
                  f"{r['key_rate_bits_per_pulse']:.3e}")
    _console().print(t)
