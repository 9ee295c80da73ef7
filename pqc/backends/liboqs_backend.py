"""Optional backend over liboqs (Open Quantum Safe) through ``liboqs-python`` (module ``oqs``, extra ``oqs``).

``oqs`` downloads, clones and builds liboqs at import time when it finds no shared library. This
backend therefore calls :func:`pqc.oqs_library.locate_liboqs` first and imports ``oqs`` only when a
library is already installed; otherwise it reports itself unavailable with the reason and ``oqs`` is
never imported (tests/pqc/test_backends_liboqs.py checks that in a subprocess).

When available it adds every KEM and signature liboqs enables (FrodoKEM, HQC, Classic McEliece,
Falcon, SLH-DSA, ML-KEM, ML-DSA …), named by their catalogue entry where the catalogue knows them,
else by the liboqs mechanism name.

Raw key formats: public key = liboqs public key; private key = liboqs secret key ‖ public key (liboqs
cannot always recompute the public key from the secret key, so both travel together). The key classes
implement :mod:`pqc.key_interface` (length checks, equality, redacted ``repr``), one class pair per
mechanism built from the shared KEM / signature bases with liboqs' own sizes.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from pqc.backends.base import BackendStatus, Implementation, KeyAlgorithm
from pqc.errors import InvalidCiphertextError, InvalidSignatureError
from pqc.key_interface import PrivateKeyInterface, PublicKeyInterface
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


class OqsPublicKey(PublicKeyInterface):
    """A public key of a liboqs mechanism: its raw bytes, checked for length on import."""

    _oqs_context: ClassVar[Callable[..., Any]]  # oqs.KeyEncapsulation or oqs.Signature, bound to the mechanism
    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    @classmethod
    def from_public_bytes(cls, data: bytes) -> Any:
        cls.check_public_bytes(data)
        return cls(bytes(data))

    def public_bytes_raw(self) -> bytes:
        return self._raw

    def __repr__(self) -> str:
        return f"<{self.algorithm} public key (liboqs)>"


class OqsPrivateKey(PrivateKeyInterface):
    """A private key of a liboqs mechanism: secret key ‖ public key (liboqs cannot always recompute the
    public key from the secret key)."""

    _oqs_context: ClassVar[Callable[..., Any]]
    _secret_size: ClassVar[int]
    _public_cls: ClassVar[type[OqsPublicKey]]
    private_form = "private key (sk ‖ pk)"
    __slots__ = ("_sk", "_pk")

    def __init__(self, sk: bytes, pk: bytes) -> None:
        self._sk, self._pk = sk, pk

    @classmethod
    def generate(cls) -> Any:
        with cls._oqs_context() as context:
            pk = context.generate_keypair()
            return cls(bytes(context.export_secret_key()), bytes(pk))

    @classmethod
    def from_private_bytes(cls, data: bytes) -> Any:
        cls.check_private_bytes(data)
        return cls(bytes(data[:cls._secret_size]), bytes(data[cls._secret_size:]))

    def public_key(self) -> OqsPublicKey:
        return self._public_cls(self._pk)

    def private_bytes_raw(self) -> bytes:
        return self._sk + self._pk

    def _context(self) -> Any:
        return self._oqs_context(secret_key=self._sk)

    def __repr__(self) -> str:
        return f"<{self.algorithm} private key (liboqs)>"


class _KemPublic(OqsPublicKey):
    ciphertext_size: ClassVar[int]
    __slots__ = ()

    def encapsulate(self) -> tuple[bytes, bytes]:
        with self._oqs_context() as kem:
            ciphertext, shared = kem.encap_secret(self._raw)
        return bytes(shared), bytes(ciphertext)


class _KemPrivate(OqsPrivateKey):
    ciphertext_size: ClassVar[int]
    __slots__ = ()

    def decapsulate(self, ciphertext: bytes) -> bytes:
        if len(ciphertext) != self.ciphertext_size:
            raise InvalidCiphertextError(
                f"{self.algorithm} ciphertext: {len(ciphertext)} bytes, expected {self.ciphertext_size}"
            )
        with self._context() as kem:
            return bytes(kem.decap_secret(bytes(ciphertext)))


class _SignaturePublic(OqsPublicKey):
    signature_size: ClassVar[int]  # the mechanism's maximum (Falcon's signatures vary in length)
    __slots__ = ()

    def verify(self, signature: bytes, data: bytes) -> None:
        with self._oqs_context() as verifier:
            if not verifier.verify(data, signature, self._raw):
                raise InvalidSignatureError(f"{self.algorithm} signature does not verify")


class _SignaturePrivate(OqsPrivateKey):
    __slots__ = ()

    def sign(self, data: bytes) -> bytes:
        with self._context() as signer:
            return bytes(signer.sign(data))


#: primitive → (oqs class name, public base, private base, liboqs details key of the third size, our name for it)
_KINDS: dict[str, tuple[str, type[OqsPublicKey], type[OqsPrivateKey], str, str]] = {
    "kem": ("KeyEncapsulation", _KemPublic, _KemPrivate, "length_ciphertext", "ciphertext_size"),
    "signature": ("Signature", _SignaturePublic, _SignaturePrivate, "length_signature", "signature_size"),
}


def _classes(oqs: Any, primitive: str, mechanism: str, name: str) -> tuple[type, type]:
    """(private class, public class) of one liboqs mechanism, sizes (bytes) from liboqs' own details."""
    oqs_class, public_base, private_base, size_key, size_name = _KINDS[primitive]
    factory = getattr(oqs, oqs_class)
    details = factory(mechanism).details
    pk_size, sk_size = details["length_public_key"], details["length_secret_key"]

    def context(secret_key: bytes | None = None) -> Any:
        return factory(mechanism, secret_key=secret_key) if secret_key is not None else factory(mechanism)

    common = {"algorithm": name, "public_key_size": pk_size, size_name: details[size_key],
              "_oqs_context": staticmethod(context), "__slots__": (), "__module__": __name__}
    stem = "Oqs" + "".join(ch for ch in name if ch.isalnum())
    public = type(f"{stem}PublicKey", (public_base,), dict(common))
    private = type(f"{stem}PrivateKey", (private_base,),
                   {**common, "private_key_size": sk_size + pk_size, "_secret_size": sk_size, "_public_cls": public})
    return private, public


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
            for primitive, mechanisms in (("kem", oqs.get_enabled_kem_mechanisms()),
                                          ("signature", oqs.get_enabled_sig_mechanisms())):
                for mechanism in mechanisms:
                    name = catalogue_name(mechanism)
                    private_cls, public_cls = _classes(oqs, primitive, mechanism, name)
                    table[name] = KeyAlgorithm(name, primitive, NAME, private_cls, public_cls)
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
