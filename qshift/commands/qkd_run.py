"""``qshift qkd run``: a full emulated link — detector events → sift → estimate → Cascade → verify →
Toeplitz → secret keys — with a live view of QBER, sifted and secret key rates and efficiency.

``--kind``: ``bb84-decoy`` (the decoy-state BB84 emulator) or ``bbm92`` (entanglement based: a CW SPDC
source of 10^6 pairs/s in the middle of the fiber, blocks of 0.5 s of both stations' time tags, clock
sync and coincidences from the tags, the entanglement witness as the alarm; ``--eve`` attacks Bob's arm;
finite key of Tomamichel et al., Nat. Commun. 3, 634 (2012)).

Data first: :func:`run_emulated_link` returns the summary dict that ``--json`` prints; the rich live
table and the final summary table are rendered from the per-block results.

Key length: ``asymptotic`` (default) or ``finite`` (Lim et al., PRA 89, 022307 (2014), Eq. 1). With the
``snspd-fiber`` preset (p_Z = 0.9, decoy probability 0.1) a finite-key length needs blocks of ≳ 5·10^8
pulses at 25 km (the X-basis decoy statistics of smaller blocks leave the phase-error bound at ½); see
:mod:`qkd.postprocess.link`.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from qshift import jsonout
from qshift.commands import JSON_HELP

if TYPE_CHECKING:
    from qkd.postprocess.link import BlockResult
    from qkd.runtime import EntangledSource

app = typer.Typer(help="QKD post-processing: run an emulated link end to end.")

CHANNEL_PRESETS = {"fiber": "snspd-fiber", "free-space": "freespace-night"}


def parse_eve(spec: str | None) -> float:
    """``intercept-resend:F`` → F (fraction of pulses attacked, 0..1); None → 0."""
    if not spec:
        return 0.0
    kind, _, frac = spec.partition(":")
    if kind != "intercept-resend":
        raise typer.BadParameter(f"unknown attack {kind!r}; known: intercept-resend:FRACTION", param_hint="--eve")
    try:
        f = float(frac) if frac else 1.0
    except ValueError:
        raise typer.BadParameter(f"fraction {frac!r} is not a number", param_hint="--eve") from None
    if not 0 <= f <= 1:
        raise typer.BadParameter(f"fraction {f} outside 0..1", param_hint="--eve")
    return f


def _block_row(r: BlockResult) -> dict[str, Any]:
    c = r.reconciliation or {}
    return {"block": r.block_index, "status": r.status, "cause": r.cause, "qber": r.qber_estimate,
            "sifted_bits": r.n_sifted, "secret_bits": r.length_bits, "efficiency": c.get("efficiency_realised"),
            "round_trips": c.get("round_trips"), "code": c.get("code"), "reason": r.reason}


def run_emulated_link(channel: str, length_km: float, seconds: float, *, preset: str | None = None,
                      eve_fraction: float = 0.0, block_pulses: int = 10**7, seed: int = 1,
                      key_length: str = "asymptotic", variant: str = "default", max_blocks: int | None = None,
                      reconciler: str = "cascade", kind: str = "bb84-decoy", ldpc_decoder: str | None = None,
                      ldpc_f_start: float | None = None, on_block: Any = None) -> dict[str, Any]:
    """Run blocks of ``block_pulses`` emulated pulses (``bbm92``: of 0.5 s of pair emission) for ``seconds``
    of wall time (at least one block).

    Rates are per second of *link* time (pulses / clock rate, or the time tags' span), the figure a deployed
    link would see, and per second of wall time (this machine's post-processing throughput)."""
    from qkd.physics.presets import link_preset
    from qkd.postprocess.ldpc import LdpcPolicy
    from qkd.postprocess.link import LinkPolicy
    from qkd.runtime import EntangledSource, LinkFaults, emulated_blocks, run_link

    ldpc = (LdpcPolicy(decoder=ldpc_decoder or "phi-sum", f_start=ldpc_f_start)   # type: ignore[arg-type]  # checked
            if ldpc_decoder or ldpc_f_start else None)
    policy = LinkPolicy(cascade_variant=variant, key_length=key_length, reconciler=reconciler, protocol=kind,
                        ldpc=ldpc)
    deadline = time.monotonic() + seconds
    rows: list[dict[str, Any]] = []
    made: Iterator[Any]
    clock_rate_hz: float | None
    pairs: EntangledSource | None = None
    if kind == "bbm92":
        entangled = EntangledSource.over_fiber(length_km, seed, faults=LinkFaults(eve_fraction=eve_fraction or None))
        made = (entangled.block(i) for i in itertools.count())
        pairs, link_seconds_per_block, clock_rate_hz = entangled, entangled.block_seconds, None
    else:
        link = link_preset(preset or CHANNEL_PRESETS[channel], length_km)
        if eve_fraction:
            link = replace(link, intercept_resend_fraction=eve_fraction)
        made = emulated_blocks(link, block_pulses, seed)
        link_seconds_per_block, clock_rate_hz = block_pulses / link.source.clock_rate_hz, link.source.clock_rate_hz

    def blocks() -> Iterator[Any]:
        for i, blk in enumerate(made):
            yield blk
            if time.monotonic() >= deadline or (max_blocks is not None and i + 1 >= max_blocks):
                return

    def cb(_a: BlockResult, b: BlockResult) -> None:
        rows.append(_block_row(b))
        if on_block:
            on_block(rows, link_seconds_per_block)

    t0 = time.perf_counter()
    link_id = f"emulated-bbm92-{length_km:g}km" if kind == "bbm92" else f"emulated-{channel}-{length_km:g}km"
    run = asyncio.run(run_link(blocks(), link_id, policy, on_block=cb))
    wall = time.perf_counter() - t0
    s = run.summary()
    link_secs = len(rows) * link_seconds_per_block
    s.update({"kind": kind, "channel": channel,
              "preset": None if kind == "bbm92" else preset or CHANNEL_PRESETS[channel], "length_km": length_km,
              "eve_intercept_resend": eve_fraction, "seed": seed,
              "block_pulses": None if kind == "bbm92" else block_pulses,
              "block_seconds": link_seconds_per_block if kind == "bbm92" else None,
              "key_length_mode": key_length, "clock_rate_hz": clock_rate_hz,
              "pair_rate_hz": pairs.spdc.mean_pairs * pairs.spdc.window_rate_hz if pairs is not None else None,
              "link_seconds": link_secs, "wall_seconds": wall,
              "sifted_rate_bps_link": s["sifted_bits"] / link_secs if link_secs else 0.0,
              "secret_rate_bps_link": s["secret_bits"] / link_secs if link_secs else 0.0,
              "secret_rate_bps_wall": s["secret_bits"] / wall if wall else 0.0,
              "keys_identical": _keys(run.alice_sink) == _keys(run.bob_sink),
              "blocks_detail": rows})
    return s


def _keys(sink: Any) -> list[bytes]:
    """The key bytes an in-memory sink (``qkd.runtime.InMemorySink``) holds, in delivery order."""
    return [k[2] for k in sink.keys]


def _live_table(rows: list[dict[str, Any]], link_seconds_per_block: float) -> Table:
    t = Table(title="QKD link (live)")
    for col in ("block", "status", "QBER", "sifted kbit/s", "secret kbit/s", "f (Cascade)", "round trips"):
        t.add_column(col, justify="right")
    for r in rows[-12:]:
        eff = r["efficiency"]
        t.add_row(str(r["block"]), r["status"] + (f" ({r['cause']})" if r["cause"] else ""),
                  f"{r['qber']:.4f}", f"{r['sifted_bits'] / link_seconds_per_block / 1e3:.1f}",
                  f"{r['secret_bits'] / link_seconds_per_block / 1e3:.1f}",
                  f"{eff:.3f}" if eff is not None and math.isfinite(eff) else "-", str(r["round_trips"] or "-"))
    return t


def _summary_table(s: dict[str, Any]) -> Table:
    t = Table(title=f"{s['link_id']}: {s['blocks']} blocks, key length {s['key_length_mode']}")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    rows = [("delivered / aborted", f"{s['delivered']} / {sum(s['aborted'].values())} {s['aborted'] or ''}"),
            ("mean QBER", f"{s['mean_qber']:.4f}"),
            ("sifted key rate (link time)", f"{s['sifted_rate_bps_link'] / 1e3:.2f} kbit/s"),
            ("secret key rate (link time)", f"{s['secret_rate_bps_link'] / 1e3:.2f} kbit/s"),
            ("secret bits delivered", str(s["secret_bits"])),
            ("mean Cascade efficiency f", f"{s['mean_efficiency']:.3f}" if math.isfinite(s["mean_efficiency"])
             else "-"),
            ("bits disclosed on the channel", str(s["disclosed_bits"])),
            ("both ends hold identical keys", str(s["keys_identical"])),
            ("alarms", ", ".join(a["kind"] for a in s["alarms"]) or "none"),
            ("wall time", f"{s['wall_seconds']:.1f} s for {s['link_seconds']:.3g} s of link time")]
    for k, v in rows:
        t.add_row(k, v)
    return t


@app.command("run")
def run(
    channel: Annotated[str, typer.Option(help="fiber | free-space")] = "fiber",
    kind: Annotated[str, typer.Option(help="link kind: bb84-decoy | bbm92 (entanglement based, fiber only, "
                                           "source in the middle)")] = "bb84-decoy",
    length_km: Annotated[float, typer.Option("--length-km", min=0.0, help="fiber length (km)")] = 25.0,
    wall_seconds: Annotated[float, typer.Option("--wall-seconds", min=0.0,
                                                help="wall-clock run time (s); at least one block runs")] = 10.0,
    seconds: Annotated[float | None, typer.Option("--seconds", hidden=True, min=0.0,
                                                  help="old name of --wall-seconds (elsewhere --seconds is "
                                                       "emulated link time)")] = None,
    eve: Annotated[str | None, typer.Option(help="attack, e.g. intercept-resend:0.3")] = None,
    preset: Annotated[str | None, typer.Option(help="link preset (default: snspd-fiber / freespace-night)")] = None,
    block_pulses: Annotated[int, typer.Option(min=1000, help="emulated pulses per block")] = 10**7,
    key_length: Annotated[str, typer.Option(help="asymptotic | finite (Lim et al. 2014 Eq. 1; the fiber preset "
                                                 "needs --block-pulses 500000000 or more)")] = "asymptotic",
    variant: Annotated[str, typer.Option(help="Cascade variant")] = "default",
    reconciler: Annotated[str, typer.Option(
        help="Error correction: cascade (interactive) | ldpc (rate-adaptive, a few round trips).")] = "cascade",
    ldpc_decoder: Annotated[str, typer.Option(
        help="LDPC decoder (--reconciler ldpc): phi-sum (closest to capacity) | min-sum-8 (int8 min-sum, fastest) "
             "| min-sum | sum-product.")] = "phi-sum",
    ldpc_f_start: Annotated[float | None, typer.Option(
        min=1.0, max=2.0, help="LDPC first attempt's efficiency f0 (unset: the decoder's own; e.g. 1.4 with "
                               "min-sum-8: one round trip a block, more leakage).")] = None,
    seed: Annotated[int, typer.Option(help="emulator seed (recorded in the output)")] = 1,
    max_blocks: Annotated[int | None, typer.Option(min=1, help="stop after this many blocks")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Run an emulated QKD link end to end and deliver secret keys (in memory)."""
    if channel not in CHANNEL_PRESETS:
        raise typer.BadParameter("expected fiber or free-space", param_hint="--channel")
    if key_length not in ("asymptotic", "finite"):
        raise typer.BadParameter("expected asymptotic or finite", param_hint="--key-length")
    if reconciler not in ("cascade", "ldpc"):
        raise typer.BadParameter("expected cascade or ldpc", param_hint="--reconciler")
    from qkd.postprocess.ldpc import DECODERS

    if ldpc_decoder not in DECODERS:
        raise typer.BadParameter(f"expected one of {', '.join(DECODERS)}", param_hint="--ldpc-decoder")
    from qkd.postprocess.link import PROTOCOLS

    if kind not in PROTOCOLS:
        raise typer.BadParameter(f"expected {' or '.join(PROTOCOLS)}", param_hint="--kind")
    if kind == "bbm92" and (channel != "fiber" or preset is not None):
        raise typer.BadParameter("bbm92 is emulated over fiber only, without a BB84 preset", param_hint="--kind")
    frac = parse_eve(eve)
    if seconds is not None:
        wall_seconds = seconds
    con = Console()
    if json_out:
        s = run_emulated_link(channel, length_km, wall_seconds, preset=preset, eve_fraction=frac,
                              block_pulses=block_pulses, seed=seed, key_length=key_length, variant=variant,
                              reconciler=reconciler, kind=kind, ldpc_decoder=ldpc_decoder,
                              ldpc_f_start=ldpc_f_start, max_blocks=max_blocks)
        typer.echo(jsonout.dumps(s))
        return
    with Live(Table(title="QKD link (starting)"), console=con, refresh_per_second=4, transient=False) as live:
        s = run_emulated_link(channel, length_km, wall_seconds, preset=preset, eve_fraction=frac,
                              block_pulses=block_pulses, seed=seed, key_length=key_length, variant=variant,
                              reconciler=reconciler, kind=kind, ldpc_decoder=ldpc_decoder,
                              ldpc_f_start=ldpc_f_start, max_blocks=max_blocks,
                              on_block=lambda rows, lsb: live.update(_live_table(rows, lsb)))
    con.print(_summary_table(s))
