"""Optional backend over liboqs (Open Quantum Safe) through ``liboqs-python`` (module ``oqs``, extra ``oqs``).

``oqs`` downloads, clones and builds liboqs at import time when it finds no shared library. This
backend therefore calls :func:`pqc.oqs_library.locate_liboqs` first and imports ``oqs`` only when a
library is already installed; otherwise it reports itself unavailable with the reason and ``oqs`` is
never imported (tests/pqc/test_backends_liboqs.py checks that in a subprocess).

When available it adds every KEM and signature liboqs enables (FrodoKEM, HQC, Classic McEliece,
Falcon, SLH-DSA, ML-KEM, ML-DSA …), named by their catalogue entry where the catalogue knows them,
else by the liboqs mechanism name.

Raw key formats: public key = liboqs public key; private key = liboqs secret key ‖ public key (liboqs
cannot always recompute the public key from the secret key, so both travel together).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pqc.backends.base import BackendStatus, Implementation, KeyAlgorithm
from pqc.errors import InvalidCiphertextError, InvalidKeyError, InvalidSignatureError
from pqc.oqs_library import LiboqsLocation, locate_liboqs

NAME = "liboqs"
_SLH = re.compile(r"^SLH[_-]DSA[_-](?:PURE[_-])?(SHA2|SHAKE)[_-](\d{3})([SF])$", re.I)


def catalogue_name(mechanism: str) -> str:
    """Catalogue canonical name for a liboqs mechanism name, or the mechanism name itself."""
    from pqc.catalogue import find

    match = _SLH.match(mechanism)
    if match:
        candidate = f"SLH-DSA-{match.group(1).upper()}-{match.group(2)}{match.group(3).lower()}"
        entry = find(candidate)
        return entry.name if entry is not None else mechanism
    entry = find(mechanism)
    return entry.name if entry is not None else mechanism


def _kem_classes(oqs: Any, mechanism: str, name: str) -> tuple[type, type]:
    details = oqs.KeyEncapsulation(mechanism).details
    pk_size, sk_size, ct_size = (details["length_public_key"], details["length_secret_key"],
                                 details["length_ciphertext"])

    class OqsKemPublicKey:
        algorithm = name
        public_key_size = pk_size
        ciphertext_size = ct_size
        __slots__ = ("_raw",)

        def __init__(self, raw: bytes) -> None:
            self._raw = raw

        @classmethod
        def from_public_bytes(cls, data: bytes) -> OqsKemPublicKey:
            if len(data) != pk_size:
                raise InvalidKeyError(f"{name} public key: {len(data)} bytes, expected {pk_size}")
            return cls(bytes(data))

        def encapsulate(self) -> tuple[bytes, bytes]:
            with oqs.KeyEncapsulation(mechanism) as kem:
                ciphertext, shared = kem.encap_secret(self._raw)
            return bytes(shared), bytes(ciphertext)

        def public_bytes_raw(self) -> bytes:
            return self._raw

        def __repr__(self) -> str:
            return f"<{name} public key (liboqs)>"

    class OqsKemPrivateKey:
        algorithm = name
        __slots__ = ("_sk", "_pk")

        def __init__(self, sk: bytes, pk: bytes) -> None:
            self._sk, self._pk = sk, pk

        @classmethod
        def generate(cls) -> OqsKemPrivateKey:
            with oqs.KeyEncapsulation(mechanism) as kem:
                pk = kem.generate_keypair()
                return cls(bytes(kem.export_secret_key()), bytes(pk))

        @classmethod
        def from_private_bytes(cls, data: bytes) -> OqsKemPrivateKey:
            if len(data) != sk_size + pk_size:
                raise InvalidKeyError(f"{name} private key: {len(data)} bytes, expected {sk_size + pk_size} (sk ‖ pk)")
            return cls(bytes(data[:sk_size]), bytes(data[sk_size:]))

        def public_key(self) -> OqsKemPublicKey:
            return OqsKemPublicKey(self._pk)

        def decapsulate(self, ciphertext: bytes) -> bytes:
            if len(ciphertext) != ct_size:
                raise InvalidCiphertextError(f"{name} ciphertext: {len(ciphertext)} bytes, expected {ct_size}")
            with oqs.KeyEncapsulation(mechanism, secret_key=self._sk) as kem:
                return bytes(kem.decap_secret(bytes(ciphertext)))

        def private_bytes_raw(self) -> bytes:
            return self._sk + self._pk

        def __repr__(self) -> str:
            return f"<{name} private key (liboqs)>"

    return OqsKemPrivateKey, OqsKemPublicKey


def _signature_classes(oqs: Any, mechanism: str, name: str) -> tuple[type, type]:
    details = oqs.Signature(mechanism).details
    pk_size, sk_size, max_sig = details["length_public_key"], details["length_secret_key"], details["length_signature"]

    class OqsPublicKey:
        algorithm = name
        public_key_size = pk_size
        signature_size = max_sig
        __slots__ = ("_raw",)

        def __init__(self, raw: bytes) -> None:
            self._raw = raw

        @classmethod
        def from_public_bytes(cls, data: bytes) -> OqsPublicKey:
            if len(data) != pk_size:
                raise InvalidKeyError(f"{name} public key: {len(data)} bytes, expected {pk_size}")
            return cls(bytes(data))

        def verify(self, signature: bytes, data: bytes) -> None:
            with oqs.Signature(mechanism) as verifier:
                if not verifier.verify(data, signature, self._raw):
                    raise InvalidSignatureError(f"{name} signature does not verify")

        def public_bytes_raw(self) -> bytes:
            return self._raw

        def __repr__(self) -> str:
            return f"<{name} public key (liboqs)>"

    class OqsPrivateKey:
        algorithm = name
        __slots__ = ("_sk", "_pk")

        def __init__(self, sk: bytes, pk: bytes) -> None:
            self._sk, self._pk = sk, pk

        @classmethod
        def generate(cls) -> OqsPrivateKey:
            with oqs.Signature(mechanism) as signer:
                pk = signer.generate_keypair()
                return cls(bytes(signer.export_secret_key()), bytes(pk))

        @classmethod
        def from_private_bytes(cls, data: bytes) -> OqsPrivateKey:
            if len(data) != sk_size + pk_size:
                raise InvalidKeyError(f"{name} private key: {len(data)} bytes, expected {sk_size + pk_size} (sk ‖ pk)")
            return cls(bytes(data[:sk_size]), bytes(data[sk_size:]))

        def public_key(self) -> OqsPublicKey:
            return OqsPublicKey(self._pk)

        def sign(self, data: bytes) -> bytes:
            with oqs.Signature(mechanism, secret_key=self._sk) as signer:
                return bytes(signer.sign(data))

        def private_bytes_raw(self) -> bytes:
            return self._sk + self._pk

        def __repr__(self) -> str:
            return f"<{name} private key (liboqs)>"

    return OqsPrivateKey, OqsPublicKey


class LiboqsBackend:
    """liboqs, only when its shared library is already installed (see module docstring)."""

    name = NAME

    def __init__(self, locate: Callable[[], LiboqsLocation] = locate_liboqs) -> None:
        self._locate = locate
        self._lock = threading.Lock()
        self._status: BackendStatus | None = None
        self._implementations: dict[str, Implementation] = {}

    def _import_oqs(self, location: LiboqsLocation) -> Any:
        """Import ``oqs`` pointing it at the library we found (so it never tries to build one)."""
        library = Path(location.path or "")
        if "OQS_INSTALL_PATH" not in os.environ and library.parent.name in ("lib", "lib64"):
            os.environ["OQS_INSTALL_PATH"] = str(library.parent.parent)
        return importlib.import_module("oqs")

    def _load(self) -> BackendStatus:
        location = self._locate()
        if not location.found:
            return BackendStatus(NAME, False, location.reason)
        if importlib.util.find_spec("oqs") is None:
            return BackendStatus(
                NAME, False, f"liboqs found at {location.path}, but liboqs-python is not installed (extra 'oqs')"
            )
        try:
            oqs = self._import_oqs(location)
            table: dict[str, Implementation] = {}
            for mechanism in oqs.get_enabled_kem_mechanisms():
                name = catalogue_name(mechanism)
                private_cls, public_cls = _kem_classes(oqs, mechanism, name)
                table[name] = KeyAlgorithm(name, "kem", NAME, private_cls, public_cls)
            for mechanism in oqs.get_enabled_sig_mechanisms():
                name = catalogue_name(mechanism)
                private_cls, public_cls = _signature_classes(oqs, mechanism, name)
                table[name] = KeyAlgorithm(name, "signature", NAME, private_cls, public_cls)
        except Exception as exc:  # noqa: BLE001 - an unusable optional backend is a status, not a crash
            return BackendStatus(NAME, False, f"liboqs at {location.path}: oqs failed: {type(exc).__name__}: {exc}")
        self._implementations = table
        return BackendStatus(NAME, True, f"{location.path} ({location.reason})", tuple(table))

    def status(self) -> BackendStatus:
        with self._lock:
            if self._status is None:
                self._status = self._load()
            return self._status

    def implementations(self) -> dict[str, Implementation]:
        return self._implementations if self.status().available else {}
