"""Fuzzing of every input kind the scanner reads: certificates (PEM/DER/PKCS#7/CSR), private and public keys
(PKCS#1/#8, SEC1, SPKI, OpenSSH, authorized_keys/known_hosts, JWK, qshift's own), PKCS#12 stores, captures
(pcap/pcapng), configs (sshd, nginx, apache, haproxy, openssl.cnf, java.security), dependency manifests and
source in every language — plus the TLS/SSH wire parsers.

Each case is a real seed file (:mod:`tests.inventory.fuzz_seeds`) with hypothesis-drawn mutations
(:mod:`tests.inventory.mutations`: bit flips, truncation, splicing, length-field corruption, ASN.1 nesting,
format tokens) written to disk and scanned by the file walker's own entry point, :func:`files.scan_file`.
The property: the scan never raises and never hangs (a per-file CPU deadline of ``QSHIFT_FUZZ_DEADLINE_S``,
default 5 s, far above what any seed takes); a file it cannot read is a skipped entry naming that file with a
typed reason ("malformed: <what and where>"), never "analysis failed" (an untyped parser exception), a
timeout, or a memory error; every finding is located in that file.

``QSHIFT_FUZZ_EXAMPLES`` (default 1,000) cases per kind in the normal suite; the slow run
(``make soak``) runs ``QSHIFT_LONG_FUZZ_EXAMPLES`` (default 100,000) per kind.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from inventory.errors import InventoryError
from inventory.sources import configs, files
from inventory.wire import ssh as sshw
from inventory.wire import tls as tlsw
from tests.inventory import mutations
from tests.inventory.fuzz_seeds import KINDS, seeds

EXAMPLES = int(os.environ.get("QSHIFT_FUZZ_EXAMPLES", "1000"))
LONG_EXAMPLES = int(os.environ.get("QSHIFT_LONG_FUZZ_EXAMPLES", "100000"))
DEADLINE_S = float(os.environ.get("QSHIFT_FUZZ_DEADLINE_S", "5"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
OPTS = files.WalkOptions(file_deadline_s=DEADLINE_S, pkcs12_passwords=(b"x",))
#: Where cases are written: memory-backed when the machine has it (one file per case).
WORK = Path(tempfile.mkdtemp(prefix="qshift-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
atexit.register(shutil.rmtree, WORK, True)

#: Skip reasons that are a crash, not a diagnosis: an untyped exception, a hang, a huge allocation.
CRASH = re.compile(r"^(analysis failed|analysis crashed|timed out)|^malformed: [A-Z]\w*(Error|Exception)\b(?<!"
                   r"RecursionError)|MemoryError")



#: Cases per hypothesis example: the engine's own cost per example is larger than a scan's, so one drawn number
#: seeds a batch (the note of a failure names the case; :func:`mutations.minimise` shrinks its bytes).
BATCH = 10


@st.composite
def cases(draw: st.DrawFn, kind: str) -> tuple[int, list[tuple[str, bytes]]]:
    """(seed, [(file name, mutated bytes)] * :data:`BATCH`) of ``kind``. Hypothesis draws one number and the
    mutations come from a generator seeded with it (:func:`mutations.random_case`): drawing each op through
    hypothesis costs ten times the scan itself. ``/tmp/repro`` style replay: ``random_case(Random(seed))``
    ``BATCH`` times."""
    seed = draw(st.integers(0, (1 << 64) - 1))
    rng = random.Random(seed)
    return seed, [mutations.random_case(rng, kind, seeds()[kind])[:2] for _ in range(BATCH)]


def check_file(kind: str, name: str, data: bytes) -> files.SourceResult:
    """Scan ``data`` written as ``name``; assert the fuzz property; return the result."""
    d = WORK / kind
    d.mkdir(exist_ok=True)
    path = d / name
    path.write_bytes(data)
    r = files.scan_file(path, str(path), OPTS)
    assert r.stats.files_seen == 1
    for s in r.skipped:
        assert s.path == str(path), s
        assert not CRASH.search(s.reason), s.reason
    for f in r.findings:
        assert f.location.uri == str(path), f
    return r


def _fuzz(kind: str, n_cases: int) -> int:
    """``n_cases`` mutated inputs of ``kind`` through :func:`check_file`; returns how many ran."""
    ran = [0]

    @settings(FUZZ, max_examples=max(1, n_cases // BATCH))
    @given(cases(kind))
    def run(batch: tuple[int, list[tuple[str, bytes]]]) -> None:
        seed, items = batch
        ran[0] += len(items)
        for i, (name, data) in enumerate(items):
            try:
                check_file(kind, name, data)
            except AssertionError:
                note(f"case {i} of seed {seed}: {kind} {name}, {len(data)} bytes: {data[:600]!r}")
                raise

    run()
    print(f"fuzz {kind}: {ran[0]} cases")
    return ran[0]


def test_every_seed_scans_clean_and_every_kind_has_seeds() -> None:
    """The seeds are real, well-formed inputs: each yields findings and nothing skipped."""
    for kind in KINDS:
        items = seeds()[kind]
        assert len(items) >= 4, kind
        for name, data in items:
            r = check_file(kind, name, data)
            assert r.skipped == [], (name, r.skipped)
            assert r.findings or kind == "source", name


@pytest.mark.parametrize("kind", KINDS)
def test_mutated_inputs_of_every_kind_are_diagnosed_by_file_never_crash_or_hang(kind: str) -> None:
    assert _fuzz(kind, EXAMPLES) >= EXAMPLES


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("kind", KINDS)
def test_long_fuzz_of_every_kind(kind: str) -> None:
    """The same property over ``QSHIFT_LONG_FUZZ_EXAMPLES`` (default 100,000) cases per kind (slow: soak)."""
    assert _fuzz(kind, LONG_EXAMPLES) >= LONG_EXAMPLES


def test_a_tree_of_mutated_files_scans_with_unchanged_exit_codes(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI over a tree of every seed plus mutants: exit 0 without a gate, 1 on a gate hit, every skipped
    entry names a file of the tree with a typed reason, no traceback."""
    from qshift.cli import main

    rng = random.Random(16)
    for kind in KINDS:
        items = seeds()[kind]
        donors = [b for _, b in items]
        for name, seed in items:
            for i in range(4):
                d = tmp_path / kind / f"m{i}"
                d.mkdir(parents=True, exist_ok=True)
                ops = [(rng.choice(["flip", "cut", "truncate", "length", "nest", "token", "splice"]),
                        *(rng.randrange(1 << 20) for _ in range(5))) for _ in range(rng.randint(1, 3))]
                (d / name).write_bytes(seed if i == 0 else mutations.apply(seed, ops, rng.randint(0, 2), kind,
                                                                           donors))
    n = sum(1 for p in tmp_path.rglob("*") if p.is_file())  # seeds of one kind may share a name
    capsys.readouterr()
    code = main(["inventory", "scan", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err
    doc = json.loads(out)
    assert doc["stats"]["files_seen"] == n
    assert doc["skipped"], "some mutants are malformed"
    for s in doc["skipped"]:
        assert s["path"].startswith(str(tmp_path)) and os.path.isfile(s["path"]), s
        assert not CRASH.search(s["reason"]), s
    code = main(["inventory", "scan", str(tmp_path), "--json", "--fail-on", "broken-by-shor"])
    capsys.readouterr()
    assert code == 1


# --- crashes the fuzzing found, each on its minimised input ------------------------------------------------
#: (kind, file name, input, what the scan must say). DER inputs are minimised by structure, not by ddmin (a
#: cut breaks every enclosing length): the smallest seed carrying the same edit.
REGRESSIONS: list[tuple[str, str, bytes, str | None]] = [
    # X.509 version 6 (v1..v3 are 0..2): cryptography raises InvalidVersion, not a ValueError
    ("certificate", "v6.der", bytes.fromhex(
        "3082013b3081eea003020106020107300506032b657030283115301306035504030c0c66757a7a2e6578616d706c65310f300d06"
        "0355040a0c06717368696674301e170d3236303130313030303030305a170d3236303133313030303030305a3028311530130603"
        "5504030c0c66757a7a2e6578616d706c65310f300d060355040a0c06717368696674302a300506032b6570032100349ac3fe4066"
        "2e65cfcf16df996707e01a155da00c251eaa13b6377fd02d9cf9a33d303b30290603551d1104223020820c66757a7a2e6578616d"
        "706c65871000000000000000000000000000000001300e0603551d0f0101ff040403020780300506032b65700341004ca44b8f85"
        "ea0fa870497d3d228648dd4efcc983c5e6966229737e625e5021e5a3fc5719599aa408afadb346d2e3f59a271718a72fb84f70b6"
        "24a4659c2d410c"), "malformed: DER data is not a certificate"),
    # an Ed25519 PKCS#8 key whose 32-byte private key sits in three extra OCTET STRINGs: OpenSSL's decoder
    # refuses it with an InternalError (not a ValueError)
    ("key", "ed25519.key", b"-----BEGIN PRIVATE KEY-----\nMDQCAQAwBQYDK2VwBCgEJgQkBCIEIJOKNK+Idletf4GCg+4sQ4DV4UbPD1xe4"
     b"OosVpKIBeA/\n-----END PRIVATE KEY-----\n", "PKCS#8 not loadable"),
    # an OpenSSH ECDSA key whose private section holds a point not in the 0x04 form (a splice of the seed; a
    # cut of any SSH string breaks every length after it, so this is the input as found): cryptography raises
    # NotImplementedError("Need uncompressed point")
    ("key", "id_ecdsa", b"-----BEGIN OPENSSH PRIVATE KEY-----\n"
     b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAiAAAABNlY2RzYS1zaGEyLW5pc3RwMzg0AAAACG5p"
     b"c3RwMzg0AAAAYQSmeXX0Dn0/l3AVUjgvH3SyD7czecIuAGO5UKVKRghDvOrU8ZgY3en7ilej6fnZvnRbgsTzgMg4Tm8eq3EZ"
     b"YPLm4Ya+//xJ+MLiCYEMNPM3FLSw1ysgS+yfUiw/D/Y2c2cAAADQS2xszEtsbMwAAAATZWNkc2Etc2hhMi1uaXN0cDM4NAAA"
     b"AAhuaXN0cDM4NAAAAGFVREJBTVJCQ0tBSUFBQkFnTUVCUVlIQ0FrS0N3d05EZzhRRVJJVEZCVVdGeGdaCkdoc2NIUjRmCi0t"
     b"LS0tRU5EIFBSSVZBVEUgS0VZLS0tLS0KsNcrIEvsn1IsPw/2NnNnAAAAMQCTOcKLEicRccZWY1QRWwfC0ulu7uLtim/KOf4r"
     b"RRJM+8JpYBsJDVyUF89GjQMBMKEAAAAAAQIDBAUGBw=="
     b"\n-----END OPENSSH PRIVATE KEY-----\n", "malformed: PEM block OPENSSH PRIVATE KEY"),
    # manifests whose values have another type than the format's usual one (None: scanned clean, no crash)
    ("manifest", "Cargo.toml", b'dependencies=[""]\ne=""', None),
    ("manifest", "Cargo.toml", b"[dependencies]\nrustls=3", "rustls"),
    ("manifest", "pyproject.toml", b's=[""]\n[project.optional-dependencies]\np=5', None),
    ("manifest", "pyproject.toml", b"[tool.poetry.dependencies]\ncryptography=2", "cryptography"),
    ("manifest", "pyproject.toml", b"project = 1\ntool = []", None),
    ("manifest", "package.json", b'{"dependencies":[""]}', None),
]


@pytest.mark.parametrize("kind, name, data, says", REGRESSIONS, ids=[r[1] for r in REGRESSIONS])
def test_inputs_that_once_crashed_the_scan_are_diagnosed(kind: str, name: str, data: bytes,
                                                         says: str | None) -> None:
    r = check_file(kind, name, data)
    if says is None:
        assert r.skipped == []
        return
    assert [s.reason for s in r.skipped if s.reason.startswith(says)] or any(says in f.context or says == f.raw
                                                                           for f in r.findings), \
        (r.skipped, r.findings)


def test_a_pem_certificate_of_version_6_is_malformed_with_its_line() -> None:
    import base64

    der = REGRESSIONS[0][2]
    pem = b"# x\n-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    r = check_file("certificate", "v6.pem", pem)
    assert len(r.skipped) == 1 and r.skipped[0].reason.startswith("malformed: ") and "6 is not a valid" in \
        r.skipped[0].reason


# --- the wire parsers (TLS ClientHello/ServerHello, SSH KEXINIT) and arbitrary config text -----------------

SEED_HELLO = tlsw.record(22, tlsw.build_client_hello([0x1301, 0xC02F], [0x11EC, 0x1D], {0x1D: b"\x01" * 32}))
SEED_KEXINIT = sshw.build_kexinit(["mlkem768x25519-sha256"], ["ssh-ed25519"], ["aes256-gcm@openssh.com"],
                                  ["hmac-sha2-256"])
_edits = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=12)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    b = bytearray(data)
    for pos, val in edits:
        if b:
            b[pos % len(b)] = val
    return bytes(b[: max(0, len(b) - cut)])


@settings(FUZZ, max_examples=min(EXAMPLES, 300))
@given(st.text(max_size=400), st.sampled_from(["sshd", "nginx", "apache", "haproxy", "openssl.cnf", "java.security"]))
def test_arbitrary_config_text_raises_only_typed_errors(text: str, kind: str) -> None:
    try:
        for f in configs.scan("c", text, kind):
            assert f.location.line is not None and f.location.line >= 1
    except InventoryError:
        pass


@settings(FUZZ, max_examples=EXAMPLES)
@given(_edits, st.integers(0, 300))
def test_corrupted_client_hello_and_kexinit_raise_only_typed_errors(e: list[tuple[int, int]], cut: int) -> None:
    for seed in (SEED_HELLO, SEED_KEXINIT):
        data = _mutate(seed, e, cut)
        try:
            msgs, _ = tlsw.handshake_messages(data)
            for m in msgs:
                tlsw.parse_client_hello(m.body)
                tlsw.parse_server_hello(m.body)
        except InventoryError:
            pass
        try:
            sshw.parse_kexinit(data)
        except InventoryError:
            pass
