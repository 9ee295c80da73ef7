"""Benchmarks of the QKD physical layer: sifting + estimation, the detector-event emulator, PTU reading.

Each figure is a rate against a baseline measured in the same run:

* ``sift_estimate_stored_tx`` — one compiled pass (slot assignment, multi-click choice, lookup in a stored
  per-slot transmitter record, basis sifting, QBER sample, counting) plus parameter estimation, in detection
  events per second, against the same computation in plain numpy (``qkd.postprocess.sift_reference.
  sift_fused_numpy``: the same draws, the same results, checked here).
* ``sift_philox_tx`` — the emulator path: the same pass with Alice's record computed by Philox4x32-10 at the
  assigned slots, plus estimation, against plain numpy (numpy Philox written here, vectorised).

Both sifting figures take the clock as known (clock recovery is a separate, per-run cost: its time for the
same tags is recorded in ``params.clock_recovery_cpu_s``; ``api_sift_estimate_events_per_cpu_s`` is the public
``sift()`` + ``estimate()`` with the clock given), and record the CPU-time rate of the portable scalar
path (``compiled_scalar_events_per_cpu_s``; the default path uses AVX2 when the CPU has it).
* ``emulator_1ghz_50km`` — emitted pulses per second of wall time for a 1 GHz InGaAs link at 50 km
  (detections sampled, not pulses looped) against a per-slot vectorised numpy emulation that draws every
  slot's values.
* ``ptu_read`` — PTU T2 (generic/MultiHarp) file reading in MB/s against a per-record pure-Python decoder.
* ``coincidence_match`` — pairing two stations' tag streams that share no clock (BBM92): the clock (offset,
  drift) is first recovered from the tags alone (``qkd.events.coincidence.synchronise``; its errors against the
  true clock and its CPU time are in params), then the compiled single-pass matcher runs over both streams,
  in tags (Alice's + Bob's) per CPU-second, against the numpy reference (``match_reference``: sorted search +
  stable sort, the same pairs, checked here) on the first tenth of the streams; that tenth also goes
  through the streaming file path (``synchronise_files`` + ``match_files``, files written as ``.qtt``):
  its CPU time and rate in params (``file_*``), its pairs checked against the in-memory pass.

Each result also records the rate per CPU-second of the process (``*_per_cpu_s`` in params), which a
loaded shared machine distorts less than wall time.

Usage: ``python bench/qkd_physics.py [--quick] [--only SECTION ...]`` → ``bench/results/qkd_physics.json``
(sections ``sift``, ``emulator``, ``ptu``, ``coincidence``; ``--only`` keeps the other sections' figures).
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import BenchResult, median_seconds, write_results  # noqa: E402

from qkd._native.sift_kernels import sift_fused_array, sift_fused_philox  # noqa: E402
from qkd.events.emulate import emulate  # noqa: E402
from qkd.events.formats.ptu import iter_ptu, write_ptu  # noqa: E402
from qkd.events.record import ArrayTransmitterRecord, _thresholds  # noqa: E402
from qkd.physics.presets import link_preset  # noqa: E402
from qkd.postprocess.estimate import estimate  # noqa: E402
from qkd.postprocess.sift import ClockFit, SiftedKey, channel_codes, recover_clock, sift  # noqa: E402
from qkd.postprocess.sift_reference import sift_fused_numpy  # noqa: E402


def _cpu_rate(fn, n_items: int, repeat: int = 3) -> float:
    """Items per CPU-second of this process (best of ``repeat``): on a shared, loaded machine the wall
    clock also counts time the process waited for a core; CPU time does not."""
    best = float("inf")
    for _ in range(repeat):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return n_items / best if best > 0 else float("nan")


def _key_from_counts(tx, counts, n_slots) -> SiftedKey:
    alice, bob, ks, ki, sifted, disclosed, errors, detected = counts
    return SiftedKey(alice_bits=alice, bob_bits=bob, key_slots=ks, key_intensity=ki, sifted=sifted,
                     disclosed=disclosed, errors=errors, detected=detected,
                     sent=np.outer([tx.p_z, 1 - tx.p_z], tx.intensity_probabilities) * n_slots, sent_exact=False,
                     n_slots=n_slots, intensities=tx.intensities, intensity_probabilities=tx.intensity_probabilities,
                     p_z=tx.p_z, clock=ClockFit(0.0, tx.period_ps, 0.0, 0, 0.0, 1.0, 0), n_tags=0,
                     n_outside_window=0, n_multi_click=0, n_sync_disclosed=0, disclosed_bits=0)


def _same(a: tuple, b: tuple) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _clock_recovery_cpu_s(run, window_ps: float) -> float:
    """CPU seconds of :func:`recover_clock` on the run's tags (a per-run cost outside the sifting figures)."""
    c0 = time.process_time()
    recover_clock(run.tags, run.tx, window_ps, codes=channel_codes())
    return time.process_time() - c0


def bench_sift_stored(n_slots: int, repeat: int) -> BenchResult:
    link = link_preset("ingaas-fiber", 10.0)
    run = emulate(link, n_slots, seed=11)
    b, v, i = run.tx.at(np.arange(n_slots, dtype=np.int64))
    packed = ArrayTransmitterRecord(b, v, i, run.tx.period_ps, run.tx.intensities, run.tx.intensity_probabilities,
                                    run.tx.p_z)
    t, c = run.tags.t_ps, run.tags.channel
    codes = channel_codes()
    n_ev = t.size
    n_int = len(packed.intensities)
    rec = packed.packed  # pack once, as loading a transmitter file does
    args = (t, c, codes, 0.0, link.source.period_ps, link.window_ps)

    def compiled(simd: bool = True) -> tuple:
        out = sift_fused_array(*args, rec, n_int, 0.05, 1, 0, simd)
        estimate(_key_from_counts(packed, out[:8], n_slots))
        return out

    def numpy_baseline() -> tuple:
        out = sift_fused_numpy(*args, n_slots, packed.at, n_int, 0.05, 1, 0)
        estimate(_key_from_counts(packed, out[:8], n_slots))
        return out

    assert _same(compiled(), numpy_baseline()) and _same(compiled(), compiled(False))
    tc = median_seconds(compiled, repeat=repeat)
    tn = median_seconds(numpy_baseline, repeat=max(3, repeat // 2))
    return BenchResult("sift_estimate_stored_tx", n_ev / tc, "events/s", "plain numpy (same computation)",
                       n_ev / tn, {"events": int(n_ev), "slots": n_slots, "link": "ingaas-fiber 10 km, 1 GHz",
                                   "compiled_events_per_cpu_s": _cpu_rate(compiled, n_ev, 5),
                                   "compiled_scalar_events_per_cpu_s": _cpu_rate(lambda: compiled(False), n_ev),
                                   "numpy_events_per_cpu_s": _cpu_rate(numpy_baseline, n_ev, 2),
                                   "clock_recovery_cpu_s": _clock_recovery_cpu_s(run, link.window_ps),
                                   "load_average_1min": os.getloadavg()[0]})


def _philox_numpy(slots: np.ndarray, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Philox4x32-10 in vectorised numpy (uint64 arithmetic): the baseline of the compiled lookup."""
    m32 = np.uint64(0xFFFFFFFF)
    c0 = slots.astype(np.uint64) & m32
    c1 = slots.astype(np.uint64) >> np.uint64(32)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    ka, kb = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ ka), (p1 & m32), ((p0 >> np.uint64(32)) ^ c3 ^ kb), (p0 & m32)
        ka = (ka + np.uint64(0x9E3779B9)) & m32
        kb = (kb + np.uint64(0xBB67AE85)) & m32
    return c0, c1, c2


def bench_sift_philox(n_slots: int, repeat: int) -> BenchResult:
    link = link_preset("ingaas-fiber", 10.0)
    run = emulate(link, n_slots, seed=12)
    t, c = run.tags.t_ps, run.tags.channel
    codes = channel_codes()
    z, cum = _thresholds(run.tx.p_z, run.tx.intensity_probabilities)
    k0, k1 = run.tx.key
    n_ev = t.size
    n_int = len(run.tx.intensities)
    args = (t, c, codes, 0.0, link.source.period_ps, link.window_ps)

    def numpy_lookup(slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w0, w1, w2 = _philox_numpy(slots, k0, k1)
        return ((w0 >= np.uint64(z)).astype(np.uint8), (w1 >> np.uint64(31)).astype(np.uint8),
                np.searchsorted(cum.astype(np.uint64), w2, side="right").astype(np.uint8))

    def compiled(simd: bool = True) -> tuple:
        out = sift_fused_philox(*args, n_slots, k0, k1, run.tx.stream, z, cum, 0.05, 1, 0, simd)
        estimate(_key_from_counts(run.tx, out[:8], n_slots))
        return out

    def numpy_baseline() -> tuple:
        out = sift_fused_numpy(*args, n_slots, numpy_lookup, n_int, 0.05, 1, 0)
        estimate(_key_from_counts(run.tx, out[:8], n_slots))
        return out

    def api() -> None:   # the public path: qkd.postprocess.sift.sift (clock given) + estimate
        estimate(sift(run.tags, run.tx, window_ps=link.window_ps, clock=ClockFit(0.0, link.source.period_ps, 0.0, 0,
                                                                                  0.0, 1.0, 0)))

    # the numpy Philox is the record's, and both passes give the same results
    probe = np.arange(0, n_slots, max(1, n_slots // 1000), dtype=np.int64)
    assert _same(numpy_lookup(probe), run.tx.at(probe))
    assert _same(compiled(), numpy_baseline()) and _same(compiled(), compiled(False))
    tc = median_seconds(compiled, repeat=repeat)
    tn = median_seconds(numpy_baseline, repeat=max(3, repeat // 2))
    return BenchResult("sift_philox_tx", n_ev / tc, "events/s", "plain numpy (numpy Philox, same computation)",
                       n_ev / tn, {"events": int(n_ev), "slots": n_slots,
                                   "compiled_events_per_cpu_s": _cpu_rate(compiled, n_ev, 5),
                                   "compiled_scalar_events_per_cpu_s": _cpu_rate(lambda: compiled(False), n_ev),
                                   "api_sift_estimate_events_per_cpu_s": _cpu_rate(api, n_ev),
                                   "numpy_events_per_cpu_s": _cpu_rate(numpy_baseline, n_ev, 2),
                                   "load_average_1min": os.getloadavg()[0]})


def _per_slot_numpy_emulation(link, n_slots: int, seed: int) -> int:
    """Baseline emulator: draw every slot's basis, bit, intensity and click in vectorised numpy."""
    rng = np.random.default_rng(seed)
    eta = link.channel.mean_transmittance() * link.eta_bob
    mus = np.asarray(link.source.intensities)
    clicks = 0
    chunk = 1 << 24
    for s0 in range(0, n_slots, chunk):
        n = min(chunk, n_slots - s0)
        basis = rng.random(n) >= link.source.p_z
        bit = rng.integers(0, 2, n, dtype=np.uint8)
        inten = rng.choice(len(mus), n, p=link.source.intensity_probabilities)
        click = rng.random(n) < -np.expm1(-eta * mus[inten])
        clicks += int(click.sum()) + int(basis[click].sum()) + int(bit[click].sum())
    return clicks


def bench_emulator(n_slots: int, baseline_slots: int) -> BenchResult:
    link = link_preset("ingaas-fiber", 50.0)
    t0, c0 = time.perf_counter(), time.process_time()
    emulate(link, n_slots, seed=13)
    te, ce = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    _per_slot_numpy_emulation(link, baseline_slots, 13)
    tb = time.perf_counter() - t0
    return BenchResult("emulator_1ghz_50km", n_slots / te, "pulses/s", "per-slot vectorised numpy emulation",
                       baseline_slots / tb, {"slots": n_slots, "baseline_slots": baseline_slots,
                                             "pulses_per_cpu_s": n_slots / ce,
                                             "link": "ingaas-fiber 50 km (dead time, afterpulsing, jitter)"})


def _pure_python_ptu(path: Path, data_offset: int, max_records: int) -> int:
    with open(path, "rb") as fh:
        fh.seek(data_offset)
        raw = fh.read(4 * max_records)
    ovf = 0
    out = []
    for (rec,) in struct.iter_unpack("<I", raw):
        special, ch, tt = rec >> 31, (rec >> 25) & 0x3F, rec & 0x1FFFFFF
        if special and ch == 0x3F:
            ovf += (tt or 1) << 25
        elif not special:
            out.append((ovf + tt, ch))
    return len(raw)


def bench_ptu(n_events: int, repeat: int) -> BenchResult:
    rng = np.random.default_rng(14)
    t = np.cumsum(rng.integers(0, 2 * 10**6, n_events)).astype(np.int64)
    from qkd.events.record import TimeTags

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.ptu"
        n_rec = write_ptu(path, TimeTags(t, rng.integers(0, 4, n_events).astype(np.uint8)))
        size = path.stat().st_size
        data_offset = size - 4 * n_rec

        def ours() -> None:
            for _ in iter_ptu(path):
                pass

        tr = median_seconds(ours, repeat=repeat)
        cpu_mb_s = _cpu_rate(ours, size) / 1e6
        n_base = min(n_rec, 300_000)
        t0 = time.perf_counter()
        nbytes = _pure_python_ptu(path, data_offset, n_base)
        tb = time.perf_counter() - t0
    return BenchResult("ptu_read", size / tr / 1e6, "MB/s", "per-record pure-Python decoder",
                       nbytes / tb / 1e6, {"file_bytes": size, "records": n_rec, "events": n_events,
                                           "mb_per_cpu_s": cpu_mb_s})


def _two_stations(n_per_station: int, offset_ps: float, drift: float, seed: int):
    """Two sorted int64 tag streams over 10 s: 30 % of each station's tags are pairs (70 ps jitter per
    station), the rest uncorrelated singles; Bob's clock reads t (1 + drift) + offset."""
    from qkd.events.record import TimeTags

    rng = np.random.default_rng(seed)
    duration_ps = 1e13
    n_pairs = int(0.3 * n_per_station)
    pairs = rng.random(n_pairs) * duration_ps
    t_a = np.concatenate([pairs + rng.normal(0, 70, n_pairs), rng.random(n_per_station - n_pairs) * duration_ps])
    t_a = np.sort(np.rint(t_a).astype(np.int64))
    t_b = np.concatenate([pairs + rng.normal(0, 70, n_pairs), rng.random(n_per_station - n_pairs) * duration_ps])
    del pairs
    t_b = np.sort(np.rint(t_b * (1.0 + drift) + offset_ps).astype(np.int64))
    zeros = np.zeros(n_per_station, np.uint8)
    return TimeTags(t_a, zeros), TimeTags(t_b, zeros), n_pairs


def bench_coincidence(n_per_station: int) -> BenchResult:
    from qkd.events.coincidence import match, match_reference, synchronise

    offset_ps, drift = 3.2e8, 4.7e-6
    alice, bob, n_pairs = _two_stations(n_per_station, offset_ps, drift, seed=15)
    c0 = time.process_time()
    model = synchronise(alice, bob)
    sync_cpu = time.process_time() - c0
    window = 1000.0
    found = match(alice, bob, model, window)
    rate_cpu = _cpu_rate(lambda: match(alice, bob, model, window), 2 * n_per_station, repeat=3)
    wall = median_seconds(lambda: match(alice, bob, model, window), repeat=3, warmup=0)
    # the numpy reference on the first tenth, which must give the same pairs
    k = n_per_station // 10
    from qkd.events.record import TimeTags

    head_a = TimeTags(alice.t_ps[:k], alice.channel[:k])
    head_b = TimeTags(bob.t_ps[:k], bob.channel[:k])
    fast, ref = match(head_a, head_b, model, window), match_reference(head_a, head_b, model, window)
    if not (np.array_equal(fast.alice_index, ref.alice_index) and np.array_equal(fast.bob_index, ref.bob_index)):
        raise SystemExit("coincidence_match: the compiled pass and the numpy reference disagree")
    base_cpu = _cpu_rate(lambda: match_reference(head_a, head_b, model, window), 2 * k, repeat=1)
    files = _coincidence_files(head_a, head_b, window, len(fast))
    return BenchResult("coincidence_match", rate_cpu, "tags/cpu-s", "numpy sorted search + stable sort",
                       base_cpu, {"tags_per_station": n_per_station, "true_pairs": n_pairs, "pairs_found": len(found),
                                  "wall_tags_per_s": 2 * n_per_station / wall, "sync_cpu_s": sync_cpu,
                                  "offset_error_ps": model.offset_ps - offset_ps,
                                  "drift_error_ppm": (model.drift - drift) * 1e6,
                                  "significance_sigma": model.significance,
                                  "residual_std_ps": model.residual_std_ps, "window_ps": window, **files,
                                  "load_average": os.getloadavg()})


def _coincidence_files(alice, bob, window: float, pairs_in_memory: int) -> dict[str, float]:
    """The streaming path on files: both stations' tags written as native ``.qtt`` (uncompressed, 2^20-tag
    blocks), then ``synchronise_files`` + ``match_files`` (bounded memory); CPU seconds and the pairs found,
    which must be those of the in-memory pass."""
    from qkd.events.coincidence import match_files, synchronise_files
    from qkd.events.formats import write_native

    with tempfile.TemporaryDirectory() as d:
        pa, pb = Path(d) / "alice.qtt", Path(d) / "bob.qtt"
        write_native(pa, alice, compress=False)
        write_native(pb, bob, compress=False)
        c0 = time.process_time()
        model = synchronise_files(pa, pb)
        c1 = time.process_time()
        pairs = sum(len(p) for p in match_files(pa, pb, model, window))
        c2 = time.process_time()
    if abs(pairs - pairs_in_memory) > 2 + pairs_in_memory // 10_000:
        raise SystemExit(f"coincidence files: {pairs} pairs streamed vs {pairs_in_memory} in memory")
    return {"file_tags_per_station": len(alice), "file_sync_cpu_s": c1 - c0,
            "file_read_match_tags_per_cpu_s": 2 * len(alice) / (c2 - c1), "file_pairs": pairs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    ap.add_argument("--only", choices=["sift", "emulator", "ptu", "coincidence"], action="append",
                    help="run these sections only; the file keeps the other sections' figures")
    args = ap.parse_args()
    q = args.quick
    sections = {
        "sift": lambda: [bench_sift_stored(5 * 10**7 if q else 2 * 10**8, 3 if q else 7),
                         bench_sift_philox(5 * 10**7 if q else 4 * 10**8, 3 if q else 7)],
        "emulator": lambda: [bench_emulator(10**8 if q else 10**9, 10**7 if q else 10**8)],
        "ptu": lambda: [bench_ptu(10**6 if q else 5 * 10**7, 3 if q else 5)],
        "coincidence": lambda: [bench_coincidence(10**7 if q else 10**8)],
    }
    prefixes = {"sift": ("sift_",), "emulator": ("emulator_",), "ptu": ("ptu_",), "coincidence": ("coincidence_",)}
    chosen = args.only or list(sections)
    results = [r for name in chosen for r in sections[name]()]
    for r in results:
        r.params["cpu_count_visible"] = os.cpu_count()
    write_results("qkd_physics", results,
                  replace_prefixes=tuple(p for name in chosen for p in prefixes[name]) if args.only else None)


if __name__ == "__main__":
    main()
