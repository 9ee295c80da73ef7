"""The filesystem source: walk trees (``.gitignore`` and ``--exclude`` respected), classify each file,
hand it to the right parser, and never stop on a bad file.

Classification is by name first (suffix, well-known names), then by content (PEM armour). Binary files
(NUL byte in the first 8 KiB) are skipped unless a binary format is expected (DER, PKCS#12, captures);
files above ``max_file_bytes`` are skipped; unreadable and malformed files are skipped with the reason.
Work is spread over ``jobs`` processes in chunks.

Speed: a conservative prefilter (:mod:`inventory.sources.prefilter`, words derived from the parsers' rule
tables) decides whether a code file can contain a finding at all before it is parsed.
"""

from __future__ import annotations

import contextlib
import fnmatch
import gc
import itertools
import os
import signal
import stat
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path

from inventory.errors import MalformedInputError
from inventory.model import Finding, Skipped, SourceResult
from inventory.rules import registry
from inventory.sources import certs, configs, manifests
from inventory.sources.prefilter import may_contain_crypto

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
#: CPU seconds one file's analysis may take before it is skipped as ``timed out`` (no parser needs a tenth of it).
DEFAULT_FILE_DEADLINE_S = 60.0
HEAD_BYTES = 64 * 1024  #: first read of every file: classification, NUL test, and whole small files
PCAP_SUFFIXES = (".pcap", ".pcapng", ".cap")


@dataclass(frozen=True, slots=True)
class WalkOptions:
    """How to walk: exclude globs, gitignore, size limit (bytes), PKCS#12 passwords to try, and the per-file
    deadline (CPU seconds of analysis; ``None``: none)."""

    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    pkcs12_passwords: tuple[bytes, ...] = ()
    file_deadline_s: float | None = DEFAULT_FILE_DEADLINE_S


class DeadlineExceeded(BaseException):
    """One file's analysis ran past its deadline. A :class:`BaseException`, so that no parser's
    ``except Exception`` swallows it; :func:`scan_file` turns it into a skipped file."""


def _on_deadline(signum: int, frame: object) -> None:
    raise DeadlineExceeded


@contextlib.contextmanager
def cpu_deadline(seconds: float | None) -> Iterator[None]:
    """Raise :class:`DeadlineExceeded` inside the block once it has used ``seconds`` of this process's CPU time
    (``ITIMER_VIRTUAL``: other tenants' load does not count). Python code, regular expressions included, is
    interrupted; a native parser is interrupted when it returns. Only the main thread can take signals:
    elsewhere (and with ``None``) there is no deadline."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.signal(signal.SIGVTALRM, _on_deadline)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        finally:  # a signal that fired just before the timer stopped may raise here: restore all the same
            signal.signal(signal.SIGVTALRM, previous)


def classify(name: str, head: bytes) -> tuple[str, str] | None:
    """(family, kind) of a file: ``code``/lang, ``pcap``, ``cert``, ``config``/dialect, ``manifest``/kind."""
    lower = name.lower()
    base = lower.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    suffix = base[dot:] if dot >= 0 else ""
    lang = registry.LANG_OF_SUFFIX.get(suffix)
    if lang and not base.endswith(".d.ts"):
        return "code", lang
    if suffix in PCAP_SUFFIXES:
        return "pcap", ""
    man = manifests.kind_of(name)
    if man:
        return "manifest", man
    if certs.looks_like_key_file(base, head) and suffix not in (".txt", ".md", ".rst", ".html"):
        return "cert", ""
    conf = configs.kind_of(name, head.decode("utf-8", "replace") if suffix == ".conf" else "")
    if conf:
        return "config", conf
    if suffix == ".json" and b'"kty"' in head:
        return "cert", ""
    return None


def _gitignore_spec(directory: Path) -> object | None:
    gi = directory / ".gitignore"
    if not gi.is_file():
        return None
    try:
        import pathspec

        return pathspec.GitIgnoreSpec.from_lines(gi.read_text("utf-8", "replace").splitlines())
    except (OSError, ValueError):
        return None


def walk(root: Path, opts: WalkOptions, skipped: list[Skipped]) -> Iterator[str]:
    """Files under ``root`` (or ``root`` itself), minus excluded and git-ignored ones."""
    if root.is_file():
        yield str(root)
        return
    if not root.exists():
        skipped.append(Skipped(str(root), "not found"))
        return
    specs: list[tuple[Path, object]] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: skipped.append(
            Skipped(str(e.filename), f"unreadable: {e.strerror}"))):
        d = Path(dirpath)
        if opts.respect_gitignore:
            spec = _gitignore_spec(d)
            if spec is not None:
                specs.append((d, spec))
            specs = [(b, s) for b, s in specs if d == b or b in d.parents]

        def ignored(p: Path, is_dir: bool, specs: list[tuple[Path, object]] = specs) -> bool:
            rel = p.relative_to(root).as_posix()
            for pat in opts.exclude:
                if fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(p.name, pat) or fnmatch.fnmatch(rel + "/", pat):
                    return True
            for base, spec in specs:
                r = p.relative_to(base).as_posix() + ("/" if is_dir else "")
                if spec.match_file(r):  # type: ignore[attr-defined]
                    return True
            return False

        if not specs and not opts.exclude:
            dirnames[:] = sorted(n for n in dirnames if n != ".git")
            for n in sorted(filenames):
                yield os.path.join(dirpath, n)
            continue
        dirnames[:] = sorted(n for n in dirnames if n != ".git" and not ignored(d / n, True))
        for n in sorted(filenames):
            p = d / n
            if not ignored(p, False):
                yield str(p)


def _read(path: str, display: str, max_bytes: int, result: SourceResult) -> tuple[bytes, int] | None:
    """(first :data:`HEAD_BYTES` bytes, size) of a regular file, or ``None`` with a :class:`Skipped` entry appended.

    Opened ``O_NONBLOCK`` and checked with ``fstat`` so that a FIFO or device node never blocks the scan.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        result.skipped.append(Skipped(display, "broken symlink" if os.path.islink(path) else "vanished"))
        return None
    except PermissionError:
        result.skipped.append(Skipped(display, "unreadable: permission denied"))
        return None
    except OSError as exc:
        result.skipped.append(Skipped(display, f"unreadable: {exc.strerror or exc}"))
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            result.skipped.append(Skipped(display, "not a regular file"))
            return None
        size = st.st_size
        if size > max_bytes:
            result.skipped.append(Skipped(display, f"too large ({size} bytes > {max_bytes})"))
            return None
        head = os.read(fd, HEAD_BYTES)
        return head, size
    except OSError as exc:
        result.skipped.append(Skipped(display, f"unreadable: {exc.strerror or exc}"))
        return None
    finally:
        os.close(fd)


def _read_rest(path: str, display: str, head: bytes, result: SourceResult) -> bytes | None:
    """The whole file once its head said it is worth reading (``None`` + :class:`Skipped` on failure)."""
    try:
        with open(path, "rb", buffering=0) as fh:
            fh.seek(len(head))
            chunks = [head]
            while True:
                b = fh.read(1 << 20)
                if not b:
                    break
                chunks.append(b)
        return b"".join(chunks)
    except OSError as exc:
        result.skipped.append(Skipped(display, f"unreadable: {exc.strerror or exc}"))
        return None


#: Suffixes of compiled code, images and archives: never a source, config, certificate or capture, not opened.
OPAQUE_SUFFIXES = frozenset({".pyc", ".pyo", ".so", ".pyd", ".dll", ".dylib", ".a", ".o", ".png", ".jpg", ".jpeg",
                             ".gif", ".ico", ".svgz", ".woff", ".woff2", ".ttf", ".otf", ".zip", ".whl", ".gz",
                             ".bz2", ".xz", ".npy", ".npz", ".mo"})


def scan_file(path: str | Path, display: str, opts: WalkOptions) -> SourceResult:
    """Analyse one file. Never raises for bad input: problems become :class:`Skipped` entries."""
    result = SourceResult()
    _scan_into(os.fspath(path), display, opts, result)
    return result


def _scan_into(path: str, display: str, opts: WalkOptions, result: SourceResult) -> None:
    """:func:`scan_file`, adding to ``result`` (findings, skipped entries, counters) instead of returning."""
    stats = result.stats
    stats.files_seen += 1
    dot = path.rfind(".")
    if dot > path.rfind("/") and path[dot:].lower() in OPAQUE_SUFFIXES:
        return
    got = _read(path, display, opts.max_file_bytes, result)
    if got is None:
        return
    head, size = got
    kind = classify(display, head)
    if kind is None:
        return
    family, sub = kind
    if family == "pcap":
        r = _scan_pcap(Path(path), display, opts.file_deadline_s)
        result.findings.extend(r.findings)
        result.skipped.extend(r.skipped)
        stats.packets += r.stats.packets
        stats.endpoints += r.stats.endpoints
        stats.files_scanned += 1
        stats.bytes_scanned += size
        return
    binary = b"\x00" in head
    if binary and family in ("code", "config", "manifest"):
        result.skipped.append(Skipped(display, "binary"))
        return
    if len(head) < size:
        full = _read_rest(path, display, head, result)
        if full is None:
            return
        data = full
    else:
        data = head
    stats.files_scanned += 1
    stats.bytes_scanned += len(data)
    if family == "code" and not may_contain_crypto(sub, data):
        return
    try:
        with cpu_deadline(opts.file_deadline_s):
            found = _analyse(display, data, family, sub, opts)
    except DeadlineExceeded:
        result.skipped.append(Skipped(display, f"timed out: analysis took over {opts.file_deadline_s:g} CPU-s"))
    except MalformedInputError as exc:
        result.skipped.append(Skipped(display, f"malformed: {exc.reason}"))
    except RecursionError:
        result.skipped.append(Skipped(display, "malformed: nesting too deep to parse"))
    except (ValueError, UnicodeError, OverflowError, MemoryError) as exc:
        result.skipped.append(Skipped(display, f"malformed: {type(exc).__name__}: {exc}"[:300]))
    except Exception as exc:  # noqa: BLE001 - each file in isolation: a parser bug skips this file, never the scan
        result.skipped.append(Skipped(display, f"analysis failed: {type(exc).__name__}: {exc}"[:300]))
    else:
        result.findings.extend(found)


def _analyse(display: str, data: bytes, family: str, sub: str, opts: WalkOptions) -> list[Finding]:
    """The parser's findings for one file's bytes (its exceptions are :func:`_scan_into`'s to sort). Warnings
    about the input (Python's on an invalid escape in scanned code, cryptography's on odd certificates) are not
    ours to print."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "code":
            return registry.scan(display, data, sub)
        if family == "cert":
            return certs.scan(display, data, (None, *opts.pkcs12_passwords))
        text = data.decode("utf-8", "replace")
        if family == "config":
            return configs.scan(display, text, sub)
        return manifests.scan(display, text, sub)


#: A capture's deadline grows with its size: one CPU-s more per this many bytes (the bench reads ~10 MB/s).
PCAP_BYTES_PER_DEADLINE_S = 1_000_000


def _scan_pcap(path: Path, display: str, deadline_s: float | None = DEFAULT_FILE_DEADLINE_S) -> SourceResult:
    from inventory.sources import pcap

    if deadline_s:
        with contextlib.suppress(OSError):
            deadline_s += path.stat().st_size / PCAP_BYTES_PER_DEADLINE_S
    try:
        with cpu_deadline(deadline_s):
            r = pcap.scan(path)
    except DeadlineExceeded:
        r = SourceResult()
        r.skipped.append(Skipped(display, f"timed out: analysis took over {deadline_s:g} CPU-s"))
    except MalformedInputError as exc:
        r = SourceResult()
        r.skipped.append(Skipped(display, f"malformed: {exc.reason}"))
    except Exception as exc:  # noqa: BLE001 - a capture the reader chokes on is skipped, never fatal
        r = SourceResult()
        r.skipped.append(Skipped(display, f"analysis failed: {type(exc).__name__}: {exc}"[:300]))
    return r


def _scan_chunk(args: tuple[list[tuple[str, str]], WalkOptions]) -> SourceResult:
    items, opts = args
    total = SourceResult()
    for p, display in items:
        try:
            _scan_into(p, display, opts, total)
        except Exception as exc:  # noqa: BLE001 - e.g. a reader bug outside the parser guard
            total.skipped.append(Skipped(display, f"analysis failed: {type(exc).__name__}: {exc}"[:300]))
    return total


#: Suffixes of files that may go to a parser (the costly ones): a chunk holds at most a quarter of its size of them.
_CODE_SUFFIXES = frozenset(registry.LANG_OF_SUFFIX)


def _chunks(roots: list[Path], opts: WalkOptions, skipped: list[Skipped],
            size: int) -> Iterator[list[tuple[str, str]]]:
    """Runs of walked files, in walk order: ``size`` files, or fewer when ``size // 4`` of them are source
    code (parsing is most of the work: a directory of code makes short chunks, so that no single chunk
    holds up the end of the scan)."""
    chunk: list[tuple[str, str]] = []
    code = 0
    code_max = max(1, size // 4)
    for root in roots:
        for p in walk(root, opts, skipped):
            chunk.append((p, p))
            dot = p.rfind(".")
            if dot > p.rfind("/") and p[dot:].lower() in _CODE_SUFFIXES:
                code += 1
            if len(chunk) == size or code == code_max:
                yield chunk
                chunk = []
                code = 0
    if chunk:
        yield chunk


def scan_paths(roots: list[Path], opts: WalkOptions, jobs: int = 2,
               progress: Callable[[int, int], None] | None = None, chunk_size: int = 128) -> SourceResult:
    """Scan every file under ``roots`` with ``jobs`` processes (1 = in this process).

    Chunks are handed to the workers while the walk goes on; results are merged in walk order.
    ``progress(files_done, bytes_done)`` is called after each chunk.
    """
    total = SourceResult()
    done = [0, 0]

    def merge(r: SourceResult) -> None:
        total.extend(r)
        done[0] += r.stats.files_seen
        done[1] += r.stats.bytes_scanned
        if progress:
            progress(done[0], done[1])

    chunks = _chunks(roots, opts, total.skipped, chunk_size)
    first = next(chunks, None)
    second = next(chunks, None) if first is not None else None
    if jobs <= 1 or second is None:
        for c in itertools.chain([first] if first else [], [second] if second else [], chunks):
            merge(_scan_chunk((c, opts)))
        return total
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    # the forked workers inherit this process's heap: frozen, its objects are skipped by every collection
    # there (CPU) and their pages stay shared instead of being copied when the collector touches them
    gc.freeze()
    try:
        pending: list[list[tuple[str, str]]] = []
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            all_chunks = [c for c in itertools.chain([first, second], chunks) if c is not None]
            futures = [pool.submit(_scan_chunk, (c, opts)) for c in all_chunks]
            for i, fut in enumerate(futures):
                try:
                    merge(fut.result())
                except Exception:  # noqa: BLE001 - a worker died (crash, OOM kill) or its result did not pickle
                    pending.append(all_chunks[i])
        if pending:
            _rescan_isolated(pending, opts, ctx, merge)
    finally:
        gc.unfreeze()
    return total


def _rescan_isolated(chunks: list[list[tuple[str, str]]], opts: WalkOptions, ctx: BaseContext,
                     merge: Callable[[SourceResult], None]) -> None:
    """Chunks whose worker failed, again one file per task: a file that kills its worker again is skipped
    with the reason, and a fresh pool goes on with the rest."""
    items = [item for c in chunks for item in c]
    while items:
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            futures = [pool.submit(_scan_chunk, ([item], opts)) for item in items]
            rest: list[tuple[str, str]] = []
            broken = False
            for item, fut in zip(items, futures, strict=True):
                if broken:
                    rest.append(item)
                    continue
                try:
                    merge(fut.result())
                except Exception as exc:  # noqa: BLE001
                    r = SourceResult()
                    r.stats.files_seen = 1
                    r.skipped.append(Skipped(item[1], f"analysis crashed its worker: {type(exc).__name__}"))
                    merge(r)
                    broken = True  # the pool is unusable after a worker death: the rest go to a new one
        items = rest
