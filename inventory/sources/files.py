"""The filesystem source: walk trees (``.gitignore`` and ``--exclude`` respected), classify each file,
hand it to the right parser, and never stop on a bad file.

Classification is by name first (suffix, well-known names), then by content (PEM armour). Binary files
(NUL byte in the first 8 KiB) are skipped unless a binary format is expected (DER, PKCS#12, captures);
files above ``max_file_bytes`` are skipped; unreadable and malformed files are skipped with the reason.
Work is spread over ``jobs`` processes in chunks.

Speed: a cheap byte-level prefilter (:data:`KEYWORDS` substrings, then :data:`TRIGGERS`) decides whether
a code file can contain a finding at all before it is parsed. It is sound for our rules: every Python
rule needs an import of one of the trigger modules (``ssl`` has no rule of its own: only the
``set_ciphers``/``set_ecdh_curve`` calls, matched literally), and every other-language rule needs one of
its trigger identifiers.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from inventory.errors import MalformedInputError
from inventory.model import Skipped, SourceResult
from inventory.sources import certs, code_treesitter, configs, manifests, python_ast

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
PCAP_SUFFIXES = (".pcap", ".pcapng", ".cap")
TRIGGERS: dict[str, re.Pattern[bytes]] = {
    "python": re.compile(rb"^[ \t]*(?:import|from)[ \t][^\n]*\b(?:hashlib|hmac|cryptography|Crypto|Cryptodome|"
                         rb"jwt|jose|paramiko|rsa|ecdsa)\b|set_ciphers|set_ecdh_curve", re.M),
    "java": re.compile(rb"getInstance|ECGenParameterSpec|Digest|Engine|Signer|KeyPairGenerator|Agreement"),
    "go": re.compile(rb"crypto/|golang\.org/x/crypto|tls\."),
    "javascript": re.compile(rb"crypto|subtle|jwt|jsonwebtoken|createHash"),
    "c": re.compile(rb"EVP_|RSA_|EC_KEY|EC_GROUP|MD5|SHA1|SHA256|SHA384|SHA512|MD4|DH_|DSA_|SSL_CTX"),
    "csharp": re.compile(rb"Cryptography|RSA|ECDsa|ECDiffieHellman|HMAC|MD5|SHA|Aes|DES|MLKem|MLDsa|Rfc2898"),
}
TRIGGERS["typescript"] = TRIGGERS["tsx"] = TRIGGERS["javascript"]
TRIGGERS["cpp"] = TRIGGERS["c"]
#: Necessary substrings per language, tested with ``bytes.__contains__`` (fast) before the trigger regex.
KEYWORDS: dict[str, tuple[bytes, ...]] = {
    "python": (b"hashlib", b"hmac", b"set_ciphers", b"ryptography", b"Crypto", b"jwt", b"jose", b"paramiko", b"rsa",
               b"ecdsa", b"set_ecdh_curve"),
    "java": (b"getInstance", b"ECGenParameterSpec", b"Digest", b"Engine", b"Signer", b"KeyPairGenerator",
             b"Agreement"),
    "go": (b"crypto/", b"tls."),
    "javascript": (b"crypto", b"subtle", b"jwt", b"jsonwebtoken", b"createHash"),
    "c": (b"EVP_", b"RSA_", b"EC_KEY", b"EC_GROUP", b"MD5", b"SHA", b"MD4", b"DH_", b"DSA_", b"SSL_CTX"),
    "csharp": (b"Cryptography", b"RSA", b"ECD", b"HMAC", b"MD5", b"SHA", b"Aes", b"DES", b"MLKem", b"MLDsa",
               b"Rfc2898"),
}
KEYWORDS["typescript"] = KEYWORDS["tsx"] = KEYWORDS["javascript"]
KEYWORDS["cpp"] = KEYWORDS["c"]


def may_contain_crypto(lang: str, data: bytes) -> bool:
    """Cheap necessary condition for any finding of ``lang`` in ``data`` (see module docstring)."""
    keys = KEYWORDS.get(lang)
    if keys is not None and not any(k in data for k in keys):
        return False
    trigger = TRIGGERS.get(lang)
    return trigger is None or trigger.search(data) is not None


@dataclass(frozen=True, slots=True)
class WalkOptions:
    """How to walk: exclude globs, gitignore, size limit (bytes), PKCS#12 passwords to try."""

    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    pkcs12_passwords: tuple[bytes, ...] = ()


def classify(name: str, head: bytes) -> tuple[str, str] | None:
    """(family, kind) of a file: ``code``/lang, ``pcap``, ``cert``, ``config``/dialect, ``manifest``/kind."""
    lower = name.lower()
    base = lower.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    suffix = base[dot:] if dot >= 0 else ""
    if suffix == ".py":
        return "code", "python"
    lang = code_treesitter.LANG_OF_SUFFIX.get(suffix)
    if lang and not base.endswith(".d.ts"):
        return "code", lang
    if suffix in PCAP_SUFFIXES:
        return "pcap", ""
    man = manifests.kind_of(name)
    if man:
        return "manifest", man
    if certs.looks_like_key_file(base, head) and suffix not in (".txt", ".md", ".rst", ".html"):
        return "cert", ""
    conf = configs.kind_of(name, head[:65536].decode("utf-8", "replace"))
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


def walk(root: Path, opts: WalkOptions, skipped: list[Skipped]) -> Iterator[Path]:
    """Files under ``root`` (or ``root`` itself), minus excluded and git-ignored ones."""
    if root.is_file():
        yield root
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
                yield Path(dirpath, n)
            continue
        dirnames[:] = sorted(n for n in dirnames if n != ".git" and not ignored(d / n, True))
        for n in sorted(filenames):
            p = d / n
            if not ignored(p, False):
                yield p


def scan_file(path: Path, display: str, opts: WalkOptions) -> SourceResult:
    """Analyse one file. Never raises for bad input: problems become :class:`Skipped` entries."""
    result = SourceResult()
    result.stats.files_seen = 1
    try:
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            result.skipped.append(Skipped(display, "broken symlink" if os.path.islink(path) else "vanished"))
            return result
        if size > opts.max_file_bytes:
            result.skipped.append(Skipped(display, f"too large ({size} bytes > {opts.max_file_bytes})"))
            return result
        with path.open("rb") as fh:
            head = fh.read(8192)
            kind = classify(display, head)
            if kind is None:
                return result
            family, sub = kind
            if family == "pcap":
                fh.close()
                r = _scan_pcap(path, display)
                r.stats.files_seen = 1
                r.stats.files_scanned = 1
                r.stats.bytes_scanned = size
                return r
            data = head + fh.read()
    except PermissionError:
        result.skipped.append(Skipped(display, "unreadable: permission denied"))
        return result
    except OSError as exc:
        result.skipped.append(Skipped(display, f"unreadable: {exc.strerror or exc}"))
        return result
    result.stats.files_scanned = 1
    result.stats.bytes_scanned = len(data)
    binary = b"\x00" in head
    try:
        if family == "code":
            if binary:
                result.skipped.append(Skipped(display, "binary"))
                return result
            if not may_contain_crypto(sub, data):
                return result
            if sub == "python":
                text = data.decode("utf-8", "replace")
                result.findings = python_ast.scan(display, text)
            else:
                result.findings = code_treesitter.scan(display, data, sub)
        elif family == "cert":
            result.findings = certs.scan(display, data, (None, *opts.pkcs12_passwords))
        elif family in ("config", "manifest"):
            if binary:
                result.skipped.append(Skipped(display, "binary"))
                return result
            text = data.decode("utf-8", "replace")
            mod = configs if family == "config" else manifests
            result.findings = mod.scan(display, text, sub)
    except MalformedInputError as exc:
        result.findings = []
        result.skipped.append(Skipped(display, f"malformed: {exc.reason}"))
    except RecursionError:
        result.findings = []
        result.skipped.append(Skipped(display, "malformed: nesting too deep to parse"))
    except (ValueError, UnicodeError, OverflowError, MemoryError) as exc:
        result.findings = []
        result.skipped.append(Skipped(display, f"malformed: {type(exc).__name__}: {exc}"[:300]))
    return result


def _scan_pcap(path: Path, display: str) -> SourceResult:
    from inventory.sources import pcap

    try:
        r = pcap.scan(path)
    except MalformedInputError as exc:
        r = SourceResult()
        r.skipped.append(Skipped(display, f"malformed: {exc.reason}"))
    return r


def _scan_chunk(args: tuple[list[tuple[str, str]], WalkOptions]) -> SourceResult:
    items, opts = args
    total = SourceResult()
    for p, display in items:
        total.extend(scan_file(Path(p), display, opts))
    return total


def scan_paths(roots: list[Path], opts: WalkOptions, jobs: int = 2,
               progress: Callable[[int, int], None] | None = None, chunk_size: int = 64) -> SourceResult:
    """Scan every file under ``roots`` with ``jobs`` processes (1 = in this process).

    ``progress(files_done, bytes_done)`` is called after each chunk.
    """
    total = SourceResult()
    items: list[tuple[str, str]] = []
    for root in roots:
        for p in walk(root, opts, total.skipped):
            items.append((str(p), str(p)))
    chunks = [items[i:i + chunk_size] for i in range(0, len(items), chunk_size)]
    done_files = done_bytes = 0
    if jobs <= 1 or len(chunks) <= 1:
        results: Iterator[SourceResult] = (_scan_chunk((c, opts)) for c in chunks)
        for r in results:
            total.extend(r)
            done_files += r.stats.files_seen
            done_bytes += r.stats.bytes_scanned
            if progress:
                progress(done_files, done_bytes)
        return total
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        for r in pool.map(_scan_chunk, [(c, opts) for c in chunks]):
            total.extend(r)
            done_files += r.stats.files_seen
            done_bytes += r.stats.bytes_scanned
            if progress:
                progress(done_files, done_bytes)
    return total
