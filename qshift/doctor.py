"""``qshift doctor``: what this machine offers, each capability checked by doing the real thing.

Every check runs an actual operation (an ML-KEM round trip, an ML-DSA signature, a call into the
compiled kernel, a pcap written and read back) rather than sniffing versions. The core checks decide
the exit code; optional ones (liboqs) are reported but do not fail the machine.
"""

from __future__ import annotations

import platform
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one doctor check. ``core`` checks must pass for exit code 0."""

    name: str
    ok: bool
    detail: str
    core: bool = True

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _python() -> str:
    return f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})"


def _cryptography() -> str:
    import cryptography
    from cryptography.hazmat.backends.openssl import backend

    return f"cryptography {cryptography.__version__}, {backend.openssl_version_text()}"


def _mlkem_round_trip(variant: str) -> str:
    """ML-KEM through the pqc backend API (the implementation the gateway uses), forged ciphertext too."""
    from pqc.backends import kem

    algorithm = kem(f"ML-KEM-{variant}")
    private = algorithm.generate()
    public = algorithm.public_key_from_bytes(private.public_key().public_bytes_raw())  # modulus check
    shared_sender, ciphertext = public.encapsulate()
    shared_receiver = private.decapsulate(ciphertext)
    if shared_sender != shared_receiver:
        raise RuntimeError("decapsulated secret differs from the encapsulated one")
    tampered = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    if private.decapsulate(tampered) == shared_sender:
        raise RuntimeError("tampered ciphertext decapsulated to the same secret")
    return (
        f"encaps/decaps ok via backend {algorithm.backend}, ciphertext {len(ciphertext)} B, "
        f"secret {len(shared_sender)} B"
    )


def _mldsa_round_trip() -> str:
    """ML-DSA-44/65/87 through the pqc backend API: sign, verify, refuse a changed message."""
    from pqc.backends import signature
    from pqc.errors import InvalidSignatureError

    sizes = []
    backends = set()
    for name in ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87"):
        algorithm = signature(name)
        backends.add(algorithm.backend)
        private = algorithm.generate()
        message = b"qshift doctor"
        signed = private.sign(message)
        private.public_key().verify(signed, message)
        try:
            private.public_key().verify(signed, message + b"!")
        except InvalidSignatureError:
            pass
        else:
            raise RuntimeError(f"{name} accepted a signature over a different message")
        sizes.append(f"{name[-2:]}:{len(signed)} B")
    return f"sign/verify ok via backend {', '.join(sorted(backends))} (signature " + ", ".join(sizes) + ")"


def _native_extension() -> str:
    import numpy as np

    from qkd._native import bitops

    module_file = Path(bitops.__file__ or "")
    if module_file.suffix not in (".so", ".pyd"):
        raise RuntimeError(f"qkd._native.bitops is not compiled ({module_file.name})")
    a = np.array([0, 1, 1, 0, 1], dtype=np.uint8)
    b = np.array([1, 1, 0, 0, 1], dtype=np.uint8)
    if bitops.count_bit_differences(a, b) != 2 or bitops.parity(a) != 1:
        raise RuntimeError("compiled kernel returned a wrong result")
    return f"compiled ({module_file.name})"


def _liboqs() -> str:
    """Status of the optional liboqs backend; never imports ``oqs`` unless a library is installed."""
    from pqc.backends import get_backend

    status = get_backend("liboqs").status()
    if not status.available:
        raise RuntimeError(status.reason + "; optional backend off")
    return f"{status.reason}; {len(status.algorithms)} algorithms"


def _scapy_pcap() -> str:
    from scapy.layers.inet import IP, TCP
    from scapy.utils import rdpcap, wrpcap

    packet = IP(src="127.0.0.1", dst="127.0.0.1") / TCP(sport=40000, dport=443, flags="S")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doctor.pcap"
        wrpcap(str(path), [packet])
        back = rdpcap(str(path))
    if len(back) != 1 or back[0][TCP].dport != 443:
        raise RuntimeError("pcap read back differs from what was written")
    import scapy

    return f"scapy {scapy.VERSION}: wrote and read back a pcap"


_CHECKS: list[tuple[str, Callable[[], str], bool]] = [
    ("python", _python, True),
    ("cryptography / OpenSSL", _cryptography, True),
    ("ML-KEM-768", lambda: _mlkem_round_trip("768"), True),
    ("ML-KEM-1024", lambda: _mlkem_round_trip("1024"), True),
    ("ML-DSA-44/65/87", _mldsa_round_trip, True),
    ("Cython extensions", _native_extension, True),
    ("scapy pcap", _scapy_pcap, True),
    ("liboqs (optional)", _liboqs, False),
]


def run_checks() -> list[CheckResult]:
    """Run every check; an exception in one check marks it failed with its message and goes on."""
    results = []
    for name, check, core in _CHECKS:
        try:
            detail = check()
            results.append(CheckResult(name, True, detail, core))
        except Exception as exc:  # noqa: BLE001 - a failed capability is a result, not a crash
            results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}", core))
    return results


def core_ok(results: list[CheckResult]) -> bool:
    """True when every core check passed."""
    return all(r.ok for r in results if r.core)
