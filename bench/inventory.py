"""Inventory throughput: source-tree scan (files/s, MB/s of source) and pcap analysis (packets/s).

Figures (each against a baseline measured in the same run, on the same data, warm page cache):

* ``source_scan_mb_per_s``: ``scan_paths`` over a large real tree (this venv's site-packages) with
  ``--jobs 2``; MB/s counts the bytes of files the scanner classifies as source/config/cert/manifest.
  Baseline: a plain ``os.walk`` + full read of every file of the tree in one process.
* ``source_scan_files_per_s``: the same run in files/s (all files walked).
* ``{jdk_src,go_src,node_modules}_scan_*``: the same figures on the real trees of the speed bar that the
  machine has (:func:`real_trees`), with peak memory (main process and largest worker).
* ``recall_*`` / ``named_*`` / ``precision_*``: per language on the labelled corpus (``tests/inventory/corpus``).
* ``pcap_packets_per_s``: :func:`inventory.sources.pcap.scan` over a capture of TLS 1.3 and SSH
  handshakes plus bulk data segments. Baseline: iterating the same file with scapy's ``RawPcapReader``
  (reading only, no analysis).

Run: ``python bench/inventory.py`` (``--quick`` for a smaller tree and capture).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import struct
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BenchResult, median_seconds, write_results  # noqa: E402
from inventory.sources import files  # noqa: E402


def _baseline_walk(root: Path) -> tuple[int, int, int]:
    """(files, total bytes, source bytes) from a plain walk + full read."""
    n = total = source = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            p = os.path.join(dirpath, name)
            try:
                with open(p, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            n += 1
            total += len(data)
            if files.classify(p, data[:8192]) is not None:
                source += len(data)
    return n, total, source


def bench_source(root: Path, repeat: int, label: str = "source") -> list[BenchResult]:
    n_files, total_bytes, source_bytes = _baseline_walk(root)  # also warms the page cache
    opts = files.WalkOptions(respect_gitignore=False)

    def plain() -> None:
        for dirpath, _, names in os.walk(root):
            for name in names:
                try:
                    with open(os.path.join(dirpath, name), "rb") as fh:
                        fh.read()
                except OSError:
                    pass

    findings: list[int] = []

    def scan() -> None:
        r = files.scan_paths([root], opts, jobs=2)
        findings.append(len(r.findings))

    load_before = os.getloadavg()[0]
    t_plain = median_seconds(plain, repeat=repeat)
    samples: list[float] = []

    loads: list[float] = []

    def timed_scan() -> None:
        start = time.perf_counter()
        scan()
        samples.append(time.perf_counter() - start)
        loads.append(os.getloadavg()[0])

    t_scan = median_seconds(timed_scan, repeat=repeat)
    cpu_plain = statistics.median(_cpu_seconds(plain) for _ in range(3 if repeat > 1 else 1))
    cpu_scan = statistics.median(_cpu_seconds(scan) for _ in range(3 if repeat > 1 else 1))
    # the machine is shared: the load average (runnable tasks, 1 min) says how much of the 2 cores was ours
    params = {"tree": str(root), "files": n_files, "total_mb": round(total_bytes / 1e6, 1),
              "source_mb": round(source_bytes / 1e6, 1), "jobs": 2, "findings": findings[-1],
              "load_average_1min_before": round(load_before, 2),
              "load_average_1min": round(os.getloadavg()[0], 2),
              "load_average_1min_during_scans": [round(x, 2) for x in loads[1:]], "scan_cpu_s": round(cpu_scan, 3),
              "plain_cpu_s": round(cpu_plain, 3), "scan_wall_s_samples": [round(x, 3) for x in samples[1:]],
              "repeat": repeat,
              # high-water marks so far: this process (the walk, merging) and its largest reaped worker
              "peak_rss_mb_main": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "peak_rss_mb_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}
    return [
        BenchResult(f"{label}_scan_mb_per_s", source_bytes / 1e6 / t_scan, "MB/s",
                    "plain os.walk + read of every file (MB/s of the same source bytes)",
                    source_bytes / 1e6 / t_plain, params),
        BenchResult(f"{label}_scan_files_per_s", n_files / t_scan, "files/s", "plain os.walk + read of every file",
                    n_files / t_plain, params),
        # CPU seconds (this process + its reaped workers) do not grow with other tenants' load as wall time does:
        # on an idle 2-core machine the wall rate is at most 2x this figure
        BenchResult(f"{label}_scan_mb_per_cpu_s", source_bytes / 1e6 / cpu_scan, "MB/CPU-s",
                    "plain os.walk + read of every file (MB of the same source bytes per CPU-s)",
                    source_bytes / 1e6 / cpu_plain, params),
    ]


def _cpu_seconds(fn: Callable[[], object]) -> float:
    """User + system CPU time of one ``fn()`` call, including worker processes it started and reaped (s)."""
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    fn()
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True))


def _make_capture(path: Path, connections: int, bulk_per_conn: int) -> int:
    from scapy.all import IP, TCP, Ether, Raw
    from scapy.utils import RawPcapWriter

    from inventory.wire import ssh as sshw
    from inventory.wire import tls as tlsw

    hello = tlsw.record(22, tlsw.build_client_hello([0x1301, 0x1302, 0xC02F], [0x11EC, 0x1D],
                                                    {0x11EC: os.urandom(1216), 0x1D: os.urandom(32)}))
    kex = b"SSH-2.0-bench\r\n" + sshw.packet(sshw.build_kexinit(["mlkem768x25519-sha256", "curve25519-sha256"],
                                                               ["ssh-ed25519"], ["aes256-gcm@openssh.com"],
                                                               ["hmac-sha2-256"]))
    bulk = os.urandom(1400)
    count = 0
    with RawPcapWriter(str(path), linktype=1) as w:
        for c in range(connections):
            src = f"10.{c // 65536 % 256}.{c // 256 % 256}.{c % 256}"
            sport = 1024 + c % 60000
            dport = 443 if c % 2 == 0 else 22
            payload = hello if dport == 443 else kex
            base = Ether() / IP(src=src, dst="10.255.0.1") / TCP(sport=sport, dport=dport, seq=100, flags="S")
            w.write(bytes(base))
            first = bytes(Ether() / IP(src=src, dst="10.255.0.1") / TCP(sport=sport, dport=dport, seq=101,
                                                                         flags="PA") / Raw(payload))
            w.write(first)
            template = bytearray(bytes(Ether() / IP(src=src, dst="10.255.0.1") /
                                       TCP(sport=sport, dport=dport, seq=0, flags="PA") / Raw(bulk)))
            seq = 101 + len(payload)
            for _ in range(bulk_per_conn):
                struct.pack_into(">I", template, 14 + 20 + 4, seq & 0xFFFFFFFF)
                w.write(bytes(template))
                seq += len(bulk)
            count += 2 + bulk_per_conn
    return count


def bench_pcap(connections: int, bulk: int, repeat: int) -> list[BenchResult]:
    from scapy.utils import RawPcapReader

    from inventory.sources import pcap

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.pcap"
        n = _make_capture(path, connections, bulk)
        size = path.stat().st_size

        def read_only() -> None:
            with RawPcapReader(str(path)) as r:
                for _ in r:
                    pass

        found: list[int] = []

        def analyse() -> None:
            found.append(len(pcap.scan(path).findings))

        t_read = median_seconds(read_only, repeat=repeat)
        t_scan = median_seconds(analyse, repeat=repeat)
    return [BenchResult("pcap_packets_per_s", n / t_scan, "packets/s",
                        "scapy RawPcapReader iteration of the same file (read only, no analysis)", n / t_read,
                        {"packets": n, "connections": connections, "capture_mb": round(size / 1e6, 1),
                         "findings": found[-1]})]


def real_trees() -> list[tuple[str, Path]]:
    """The real trees of the speed bar that this machine has: the JDK's source (``lib/src.zip`` of an installed
    JDK, unpacked once into the temp directory), Go's source tree (``GOROOT/src`` of an installed Go or the
    ``golang-*-src`` package) and a node_modules tree. Absent ones are left out (the bench says so)."""
    import glob
    import shutil
    import subprocess
    import zipfile

    out: list[tuple[str, Path]] = []
    zips = sorted((z for z in glob.glob("/usr/lib/jvm/*/lib/src.zip") if os.path.isfile(z)),
                  key=lambda z: os.path.getsize(os.path.realpath(z)))
    if zips:
        dest = Path(tempfile.gettempdir()) / "qshift-bench-jdk-src"
        if not (dest / ".complete").exists():
            shutil.rmtree(dest, ignore_errors=True)
            with zipfile.ZipFile(os.path.realpath(zips[-1])) as z:
                z.extractall(dest)
            (dest / ".complete").write_text(zips[-1])
        out.append(("jdk_src", dest))
    goroot = None
    if shutil.which("go"):
        goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True).stdout.strip() or None
    candidates = [f"{goroot}/src"] if goroot else []
    candidates += sorted(glob.glob("/usr/share/go-*/src")) + sorted(glob.glob("/usr/lib/go-*/src"))
    for c in candidates:
        if Path(c, "crypto").is_dir():
            out.append(("go_src", Path(c)))
            break
    for c in ("/usr/lib/node_modules", "/usr/local/lib/node_modules"):
        if Path(c).is_dir():
            out.append(("node_modules", Path(c)))
            break
    return out


def bench_recall() -> list[BenchResult]:
    """Recall / exact naming / precision per language on the labelled corpus (``tests/inventory/corpus``)."""
    from tests.inventory.recall import measure

    out = []
    for lang, sc in measure().items():
        out.append(BenchResult(f"recall_{lang}", sc.recall, "fraction",
                               "marked lines of the labelled corpus (tests/inventory/corpus)", 1.0, sc.to_dict()))
        out.append(BenchResult(f"named_{lang}", sc.naming, "fraction",
                               "marked lines of the labelled corpus, exact canonical name", 1.0, sc.to_dict()))
        out.append(BenchResult(f"precision_{lang}", sc.precision, "fraction",
                               "findings of the labelled corpus on marked lines / all its findings", 1.0,
                               sc.to_dict()))
    return out


#: Timed scans per real tree (median taken): the small trees scan in a third of a second, where one
#: scheduling hiccup of a shared machine moves a median of three.
REAL_TREE_REPEAT = 5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tree", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    ap.add_argument("--trees", help="comma-separated real-tree labels (jdk_src, go_src, node_modules): measure only "
                                    "those and keep every other figure already in the results file")
    args = ap.parse_args()
    if args.trees:
        wanted = args.trees.split(",")
        trees = [(label, path) for label, path in real_trees() if label in wanted]
        print("real trees:", ", ".join(f"{label}={path}" for label, path in trees) or "none of those on this machine")
        only: list[BenchResult] = []
        for label, path in trees:
            only += bench_source(path, REAL_TREE_REPEAT, label)
        write_results("inventory", only, replace_prefixes=tuple(f"{label}_" for label, _ in trees))
        return
    root = args.tree
    repeat = 5
    if args.quick:
        root = root / "cryptography" if (root / "cryptography").is_dir() else root
        repeat = 1
    t0 = time.perf_counter()
    results = bench_source(root, repeat)
    if not args.quick:
        trees = real_trees()
        print("real trees:", ", ".join(f"{label}={path}" for label, path in trees) or "none on this machine")
        for label, path in trees:
            results += bench_source(path, REAL_TREE_REPEAT, label)
    results += bench_recall()
    results += bench_pcap(200 if args.quick else 2000, 20 if args.quick else 40, min(repeat, 3))
    # a real tree absent from this machine today keeps the figures measured when it was there (with their params)
    write_results("inventory", results, replace_prefixes=tuple(r.name for r in results))
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
