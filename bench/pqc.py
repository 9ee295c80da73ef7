"""pqc overhead: each operation through our API against the same operation on ``cryptography`` directly.

Run: ``python bench/pqc.py [--quick]``; writes ``bench/results/pqc.json``.

Method: one process; for every pair (ours, direct) the two are run in *interleaved* blocks of ``block``
calls (the order alternating each round), ``rounds`` rounds; each block gives one per-call time, measured
as process CPU time (``time.process_time``: the 2-core machine is shared, and wall time would charge us
for other processes' turns); the figures are the medians over rounds, in µs of CPU per operation.
``ratio`` = ours / direct (1.00 = no overhead); ``params.paired_ratio_median`` is the median of the
per-round ratios of adjacent blocks (robust to drifts in machine load).

Bars (issue #3): ML-KEM-768 encaps and decaps ratio <= 1.10; X-Wing encaps and decaps <= 1.30 x the
baseline "ML-KEM-768 + X25519 done directly", which is, with ``cryptography`` objects:

* encaps: ``mlkem_pk.encapsulate()`` + ``X25519PrivateKey.generate()`` + its ``public_key().public_bytes_raw()``
  + ``exchange(x25519_pk)`` (the ephemeral key and its share, as X-Wing needs them);
* decaps: ``mlkem_sk.decapsulate(ct_M)`` + ``X25519PublicKey.from_public_bytes(ct_X)`` + ``exchange``;
* "with key parsing": the same plus ``from_public_bytes`` of the peer's ML-KEM and X25519 keys, against our
  ``XWingPublicKey.from_public_bytes(pk).encapsulate()`` (what the gateway does once per handshake; ours
  includes the FIPS 203 §7.2 modulus check).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cryptography.hazmat.primitives.asymmetric import ed25519 as c_ed  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import mldsa as c_mldsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import mlkem as c_mlkem  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import x25519 as c_x  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from bench._common import BenchResult, write_results  # noqa: E402
from pqc.aead import Opener, Sealer  # noqa: E402
from pqc.backends import aead, kem, key_agreement, signature  # noqa: E402
from pqc.xwing import XWingPublicKey  # noqa: E402

Op = Callable[[], object]
MESSAGE = b"m" * 64
FRAMES_FOR_OPEN = 41 * 60 + 60 + 100  # rounds x block + warm-up (+ margin) of the full run


def interleaved(ours: Op, direct: Op, rounds: int, block: int) -> tuple[float, float, float]:
    """Median CPU µs per call of ``ours`` and ``direct`` (alternating blocks), and the median paired ratio."""
    ours_samples: list[float] = []
    direct_samples: list[float] = []
    for fn in (ours, direct):  # warm-up
        for _ in range(block):
            fn()
    for index in range(rounds):
        order = ((ours, ours_samples), (direct, direct_samples))
        for fn, samples in order if index % 2 == 0 else reversed(order):
            start = time.process_time()
            for _ in range(block):
                fn()
            samples.append((time.process_time() - start) / block * 1e6)
    paired = [o / d for o, d in zip(ours_samples, direct_samples, strict=True) if d > 0]
    return statistics.median(ours_samples), statistics.median(direct_samples), statistics.median(paired)


def cases() -> list[tuple[str, str, Op, Op, dict[str, object]]]:
    """(name, baseline description, ours, direct, params) for every compared operation."""
    out: list[tuple[str, str, Op, Op, dict[str, object]]] = []

    for variant in ("768", "1024"):
        name = f"ML-KEM-{variant}"
        ours_sk = kem(name).generate()
        ours_pk = ours_sk.public_key()
        direct_sk = ours_sk.backend_key
        direct_pk = direct_sk.public_key()
        _, ct = direct_pk.encapsulate()
        out.append((f"{name} encaps", f"cryptography {name} encapsulate", ours_pk.encapsulate, direct_pk.encapsulate,
                    {}))
        out.append((f"{name} decaps", f"cryptography {name} decapsulate", lambda s=ours_sk, c=ct: s.decapsulate(c),
                    lambda s=direct_sk, c=ct: s.decapsulate(c), {}))
        raw = ours_pk.public_bytes_raw()
        direct_cls = c_mlkem.MLKEM768PublicKey if variant == "768" else c_mlkem.MLKEM1024PublicKey
        importer = kem(name)
        out.append((f"{name} public key import", f"cryptography {name} from_public_bytes",
                    lambda r=raw, a=importer: a.public_key_from_bytes(r),
                    lambda r=raw, cls=direct_cls: cls.from_public_bytes(r),
                    {"ours": "includes the FIPS 203 §7.2 modulus check"}))
    out.append(("ML-KEM-768 keygen", "cryptography MLKEM768PrivateKey.generate", kem("ML-KEM-768").generate,
                c_mlkem.MLKEM768PrivateKey.generate, {}))

    # X-Wing against ML-KEM-768 + X25519 done directly
    xw = kem("X-Wing").generate()
    xw_pk = xw.public_key()
    xw_raw = xw_pk.public_bytes_raw()
    _, xw_ct = xw_pk.encapsulate()
    m_sk = xw._mlkem.backend_key
    m_pk = m_sk.public_key()
    x_pk = c_x.X25519PublicKey.from_public_bytes(xw_raw[1184:])
    x_sk = c_x.X25519PrivateKey.from_private_bytes(xw._x25519.private_bytes_raw())
    m_raw, x_raw = xw_raw[:1184], xw_raw[1184:]

    def direct_encaps() -> object:
        ss_m, ct_m = m_pk.encapsulate()
        eph = c_x.X25519PrivateKey.generate()
        return ss_m, ct_m, eph.public_key().public_bytes_raw(), eph.exchange(x_pk)

    def direct_decaps() -> object:
        return m_sk.decapsulate(xw_ct[:1088]), x_sk.exchange(c_x.X25519PublicKey.from_public_bytes(xw_ct[1088:]))

    def direct_encaps_parsed() -> object:
        mpk = c_mlkem.MLKEM768PublicKey.from_public_bytes(m_raw)
        xpk = c_x.X25519PublicKey.from_public_bytes(x_raw)
        ss_m, ct_m = mpk.encapsulate()
        eph = c_x.X25519PrivateKey.generate()
        return ss_m, ct_m, eph.public_key().public_bytes_raw(), eph.exchange(xpk)

    base = "ML-KEM-768 + X25519 directly on cryptography"
    out.append(("X-Wing encaps", base, xw_pk.encapsulate, direct_encaps, {"bar_ratio": 1.3}))
    out.append(("X-Wing decaps", base, lambda: xw.decapsulate(xw_ct), direct_decaps, {"bar_ratio": 1.3}))
    out.append(("X-Wing encaps with key parsing", base + " (with from_public_bytes)",
                lambda: XWingPublicKey.from_public_bytes(xw_raw).encapsulate(), direct_encaps_parsed,
                {"bar_ratio": 1.3}))

    # signatures
    for name, direct_cls in (("ML-DSA-65", c_mldsa.MLDSA65PrivateKey), ("Ed25519", c_ed.Ed25519PrivateKey)):
        ours_sk = signature(name).generate()
        direct_sk = direct_cls.from_seed_bytes(ours_sk.private_bytes_raw()) if name != "Ed25519" else \
            c_ed.Ed25519PrivateKey.from_private_bytes(ours_sk.private_bytes_raw())
        message = MESSAGE
        sig = direct_sk.sign(message)
        ours_pk, direct_pk = ours_sk.public_key(), direct_sk.public_key()
        out.append((f"{name} sign", f"cryptography {name} sign", lambda s=ours_sk: s.sign(MESSAGE),
                    lambda s=direct_sk: s.sign(MESSAGE), {}))
        out.append((f"{name} verify", f"cryptography {name} verify", lambda p=ours_pk, g=sig: p.verify(g, MESSAGE),
                    lambda p=direct_pk, g=sig: p.verify(g, MESSAGE), {}))

    agree = key_agreement("X25519")
    mine, peer = agree.generate(), agree.generate().public_key()
    out.append(("X25519 exchange", "cryptography X25519 exchange", lambda: mine.exchange(peer),
                lambda: mine.backend_key.exchange(peer.backend_key), {}))

    key = bytes(range(32))
    payload = bytes(1024)
    cipher = aead("AES-256-GCM").new(key)
    direct_gcm = AESGCM(key)
    nonce = bytes(12)
    out.append(("AES-256-GCM encrypt 1 KiB", "cryptography AESGCM.encrypt 1 KiB",
                lambda: cipher.encrypt(nonce, payload, b""), lambda: direct_gcm.encrypt(nonce, payload, b""),
                {"bytes": 1024}))
    sealer = Sealer(bytes(range(1, 33)), bytes(12))
    counter = iter(range(1 << 62))
    out.append(("AEAD frame seal 1 KiB (sequence, nonce, header)", "cryptography AESGCM.encrypt 1 KiB",
                lambda: sealer.seal_frame(payload), lambda: direct_gcm.encrypt(next(counter).to_bytes(12, "big"),
                                                                            payload, b""),
                {"bytes": 1024}))
    big = bytes(16384)
    big_sealer = Sealer(bytes(range(2, 34)), bytes(12))
    big_counter = iter(range(1 << 62))
    out.append(("AEAD frame seal 16 KiB", "cryptography AESGCM.encrypt 16 KiB",
                lambda: big_sealer.seal_frame(big),
                lambda: direct_gcm.encrypt(next(big_counter).to_bytes(12, "big"), big, b""), {"bytes": 16384}))
    open_key, open_iv = bytes(range(3, 35)), bytes(range(12))
    frame_source = Sealer(open_key, open_iv)
    frames = iter([frame_source.seal_frame(payload) for _ in range(FRAMES_FOR_OPEN)])
    opener = Opener(open_key, open_iv)
    open_gcm = AESGCM(open_key)
    # the baseline decrypts as many distinct ciphertexts (same memory footprint, no hot-cache advantage)
    direct_records = iter([(i.to_bytes(12, "big"), open_gcm.encrypt(i.to_bytes(12, "big"), payload, b""))
                           for i in range(FRAMES_FOR_OPEN)])

    def direct_open() -> bytes:
        record_nonce, record = next(direct_records)
        return open_gcm.decrypt(record_nonce, record, b"")

    out.append(("AEAD frame open 1 KiB (replay window, auth)", "cryptography AESGCM.decrypt 1 KiB, distinct records",
                lambda: opener.open_frame(next(frames)), direct_open, {"bytes": 1024}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke run)")
    args = parser.parse_args()
    rounds, block = (5, 20) if args.quick else (41, 60)
    results = []
    for name, baseline, ours, direct, params in cases():
        slow = "ML-DSA" in name or "keygen" in name
        b = max(block // 5, 4) if slow else block
        ours_us, direct_us, paired = interleaved(ours, direct, rounds, b)
        results.append(BenchResult(name, ours_us, "us/op (CPU)", baseline, direct_us,
                                   {**params, "rounds": rounds, "calls_per_block": b, "statistic": "median",
                                    "paired_ratio_median": round(paired, 4)}))
    write_results("pqc", results)


if __name__ == "__main__":
    main()
