"""The optional liboqs backend: with no liboqs shared library, importing qshift / pqc and asking for the
backend must never import ``oqs`` (whose import would try to download and build liboqs).

Checked in a fresh interpreter (a subprocess) with a meta-path guard that records and refuses any
attempt to import ``oqs``, plus a planted fake ``oqs`` package that leaves a marker file if imported.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pqc.backends import get_backend, kem, signature
from pqc.oqs_library import locate_liboqs
from tests.pqc.vectors import REPO

GUARD = textwrap.dedent(
    """
    import importlib.abc, json, sys
    attempts = []

    class RefuseOqs(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname == "oqs" or fullname.startswith("oqs."):
                attempts.append(fullname)
                raise ImportError("test guard: importing oqs is forbidden here")
            return None

    sys.meta_path.insert(0, RefuseOqs())
    """
)

SCENARIO = textwrap.dedent(
    """
    import qshift.cli  # the whole CLI app, every sub-app mounted
    import pqc
    from pqc.backends import get_backend, kem, statuses
    from qshift.commands.pqc_algorithms import algorithm_rows
    from pqc.errors import BackendUnavailableError
    from qshift.doctor import _liboqs

    status = get_backend("liboqs").status()
    try:
        kem("FrodoKEM-640-AES")
        error = None
    except BackendUnavailableError as exc:
        error = str(exc)
    rows = algorithm_rows(family="FrodoKEM")
    try:
        _liboqs()
        doctor_ok = True
    except RuntimeError:
        doctor_ok = False
    statuses()
    print(json.dumps({
        "attempts": attempts,
        "in_modules": sorted(m for m in sys.modules if m == "oqs" or m.startswith("oqs.")),
        "available": status.available,
        "reason": status.reason,
        "error": error,
        "frodo_backends": [r.get("backends") for r in rows],
        "doctor_liboqs": doctor_ok,
    }))
    """
)


def _run(tmp_path: Path, body: str) -> dict[str, object]:
    fake = tmp_path / "fake_site" / "oqs"
    fake.mkdir(parents=True)
    marker = tmp_path / "oqs-imported"
    (fake / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OQS_INSTALL_PATH", "LD_LIBRARY_PATH", "PYTHONPATH")}
    env["HOME"] = str(tmp_path)  # no ~/_oqs
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(tmp_path / "fake_site")])
    result = subprocess.run(
        [sys.executable, "-c", GUARD + body], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["marker"] = marker.exists()
    return report


def _skip_if_liboqs_on_system() -> None:
    if ctypes.util.find_library("oqs"):
        pytest.skip("a liboqs shared library is on this system's library path: the no-library case cannot run")


def test_no_library_means_oqs_is_never_imported_and_the_backend_says_why(tmp_path: Path) -> None:
    _skip_if_liboqs_on_system()
    report = _run(tmp_path, SCENARIO)
    assert report["attempts"] == [] and report["in_modules"] == [] and report["marker"] is False
    assert report["available"] is False
    assert "no liboqs shared library" in str(report["reason"])
    assert "FrodoKEM-640-AES" in str(report["error"]) and "liboqs" in str(report["error"])
    assert report["frodo_backends"] and all(b == [] for b in report["frodo_backends"])  # type: ignore[union-attr]
    assert report["doctor_liboqs"] is False


def test_the_guard_itself_catches_an_oqs_import(tmp_path: Path) -> None:
    """Control: the same harness does see an import of ``oqs`` (so the test above can fail)."""
    body = textwrap.dedent(
        """
        try:
            import oqs  # noqa: F401
        except ImportError:
            pass
        print(json.dumps({"attempts": attempts, "in_modules": [m for m in sys.modules if m == "oqs"]}))
        """
    )
    report = _run(tmp_path, body)
    assert report["attempts"] == ["oqs"]


def test_library_found_but_binding_missing_is_reported_without_importing(tmp_path: Path) -> None:
    """A liboqs file under OQS_INSTALL_PATH is found; with liboqs-python absent the backend says so."""
    lib = tmp_path / "oqs" / "lib"
    lib.mkdir(parents=True)
    (lib / "liboqs.so.7").write_bytes(b"\x7fELF not really")
    location = locate_liboqs({"OQS_INSTALL_PATH": str(tmp_path / "oqs")})
    assert location.found and location.path == str(lib / "liboqs.so.7")
    from pqc.backends.liboqs_backend import LiboqsBackend

    if "oqs" in sys.modules or __import__("importlib").util.find_spec("oqs") is not None:
        pytest.skip("liboqs-python is installed here; this case needs it absent")
    status = LiboqsBackend(locate=lambda: location).status()
    assert not status.available
    assert "liboqs-python is not installed" in status.reason and "oqs" not in sys.modules


@pytest.mark.skipif(not locate_liboqs().found, reason=f"liboqs absent: {locate_liboqs().reason}")
def test_liboqs_kems_and_signatures_round_trip() -> None:
    status = get_backend("liboqs").status()
    if not status.available:
        pytest.skip(f"liboqs library present but backend unavailable: {status.reason}")
    for name in ("FrodoKEM-640-AES", "HQC-128", "ML-KEM-768"):
        if name in status.algorithms:
            private = kem(name, backend="liboqs").generate()
            shared, ciphertext = private.public_key().encapsulate()
            assert private.decapsulate(ciphertext) == shared
    for name in ("Falcon-512", "ML-DSA-65"):
        if name in status.algorithms:
            private = signature(name, backend="liboqs").generate()
            private.public_key().verify(private.sign(b"m"), b"m")


class _StandIn:
    """liboqs-python's context-manager API (``oqs.KeyEncapsulation``/``oqs.Signature``) for one KEM and one
    signature mechanism, computed with ``cryptography`` (ML-KEM-768, Ed25519): liboqs is absent on most
    machines that run this suite, and this checks our glue — sizes from ``details``, the sk ‖ pk private
    form, typed errors — not liboqs. ``test_liboqs_kems_and_signatures_round_trip`` runs the real library."""

    def __init__(self, mechanism: str, secret_key: bytes | None = None) -> None:
        self.secret_key = secret_key

    def __enter__(self) -> _StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _generate(self) -> Any:
        raise NotImplementedError

    def generate_keypair(self) -> bytes:
        self._key = self._generate()
        return self._key.public_key().public_bytes_raw()

    def export_secret_key(self) -> bytes:
        return self._key.private_bytes_raw()


class _StandInKem(_StandIn):
    details = {"length_public_key": 1184, "length_secret_key": 64, "length_ciphertext": 1088}

    @staticmethod
    def _generate() -> Any:
        from cryptography.hazmat.primitives.asymmetric import mlkem

        return mlkem.MLKEM768PrivateKey.generate()

    def encap_secret(self, public: bytes) -> tuple[bytes, bytes]:
        from cryptography.hazmat.primitives.asymmetric import mlkem

        shared, ciphertext = mlkem.MLKEM768PublicKey.from_public_bytes(public).encapsulate()
        return ciphertext, shared

    def decap_secret(self, ciphertext: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import mlkem

        assert self.secret_key is not None
        return mlkem.MLKEM768PrivateKey.from_seed_bytes(self.secret_key).decapsulate(ciphertext)


class _StandInSignature(_StandIn):
    details = {"length_public_key": 32, "length_secret_key": 32, "length_signature": 64}

    @staticmethod
    def _generate() -> Any:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        return ed25519.Ed25519PrivateKey.generate()

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        assert self.secret_key is not None
        return ed25519.Ed25519PrivateKey.from_private_bytes(self.secret_key).sign(data)

    def verify(self, data: bytes, signature: bytes, public: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric import ed25519

        try:
            ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
        except InvalidSignature:
            return False
        return True


def test_liboqs_key_classes_over_a_stand_in_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.machinery
    import types

    from pqc.backends.liboqs_backend import LiboqsBackend
    from pqc.errors import InvalidCiphertextError, InvalidKeyError, InvalidSignatureError
    from pqc.key_interface import PrivateKeyInterface, PublicKeyInterface
    from pqc.oqs_library import LiboqsLocation

    binding = types.SimpleNamespace(
        __spec__=importlib.machinery.ModuleSpec("oqs", None), KeyEncapsulation=_StandInKem, Signature=_StandInSignature,
        get_enabled_kem_mechanisms=lambda: ["StandIn-KEM"], get_enabled_sig_mechanisms=lambda: ["StandIn-Sig"])
    monkeypatch.setitem(sys.modules, "oqs", binding)
    # a path not under lib/ or lib64/, so that the backend leaves OQS_INSTALL_PATH unset
    backend = LiboqsBackend(locate=lambda: LiboqsLocation("/stand-in/liboqs.so", "stand-in"))
    status = backend.status()
    assert status.available and status.algorithms == ("StandIn-KEM", "StandIn-Sig"), status
    kem_impl, sig_impl = backend.implementations()["StandIn-KEM"], backend.implementations()["StandIn-Sig"]

    private = kem_impl.generate()
    assert isinstance(private, PrivateKeyInterface) and len(private.private_bytes_raw()) == 64 + 1184
    public = kem_impl.public_key_from_bytes(private.public_key().public_bytes_raw())
    assert isinstance(public, PublicKeyInterface) and public == private.public_key()
    shared, ciphertext = public.encapsulate()
    assert kem_impl.private_key_from_bytes(private.private_bytes_raw()).decapsulate(ciphertext) == shared
    assert repr(private) == "<StandIn-KEM private key (liboqs)>" and "liboqs" in repr(public)
    with pytest.raises(InvalidKeyError, match=r"StandIn-KEM private key \(sk ‖ pk\): 5 bytes, expected 1248"):
        kem_impl.private_key_from_bytes(bytes(5))
    with pytest.raises(InvalidKeyError, match="StandIn-KEM public key: 5 bytes, expected 1184"):
        kem_impl.public_key_from_bytes(bytes(5))
    with pytest.raises(InvalidCiphertextError, match="StandIn-KEM ciphertext: 5 bytes, expected 1088"):
        private.decapsulate(bytes(5))

    signer = sig_impl.generate()
    verifier = sig_impl.public_key_from_bytes(signer.public_key().public_bytes_raw())
    verifier.verify(signer.sign(b"m"), b"m")
    assert verifier.signature_size == 64
    with pytest.raises(InvalidSignatureError, match="StandIn-Sig signature does not verify"):
        verifier.verify(signer.sign(b"m"), b"n")
