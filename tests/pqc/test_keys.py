"""Key serialisation: raw, PEM/DER (PKCS#8 / SPKI) where a standard exists, the documented qshift PEM
format for the rest, and key files (private 0600, public beside it)."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pqc.backends import implementation
from pqc.errors import InvalidKeyError, KeyFileError
from pqc.keys import (
    QSHIFT_PRIVATE_LABEL,
    load_private_key,
    load_public_key,
    private_key_to_der,
    private_key_to_pem,
    public_key_to_der,
    public_key_to_pem,
    read_private_key,
    read_public_key,
    write_keypair,
)

STANDARD = ["ML-KEM-768", "ML-KEM-1024", "ML-DSA-44", "ML-DSA-65", "ML-DSA-87", "Ed25519", "X25519"]
QSHIFT_FORMAT = ["X-Wing", "X25519MLKEM768", "MLDSA65-Ed25519"]


def _same_private(a: object, b: object) -> bool:
    return type(a) is type(b) and a.private_bytes_raw() == b.private_bytes_raw()  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", STANDARD)
def test_standard_keys_round_trip_through_pkcs8_and_spki_pem_and_der(name: str) -> None:
    private = implementation(name).generate()  # type: ignore[union-attr]
    for encoded in (private_key_to_pem(private), private_key_to_der(private)):
        assert _same_private(load_private_key(encoded), private)
    public = private.public_key()
    for encoded in (public_key_to_pem(public), public_key_to_der(public)):
        assert load_public_key(encoded) == public
    # the PEM is plain PKCS#8 / SPKI: cryptography reads it directly
    direct = serialization.load_pem_private_key(private_key_to_pem(private), password=None)
    assert direct.public_key().public_bytes_raw() == public.public_bytes_raw()
    assert private_key_to_pem(private).startswith(b"-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize("name", QSHIFT_FORMAT)
def test_qshift_format_keys_round_trip_and_have_the_documented_body(name: str) -> None:
    private = implementation(name).generate()  # type: ignore[union-attr]
    pem = private_key_to_pem(private)
    assert pem.startswith(f"-----BEGIN {QSHIFT_PRIVATE_LABEL}-----".encode())
    body = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    assert body == b"qshift-key-v1\x00" + name.encode() + b"\x00" + private.private_bytes_raw()
    assert _same_private(load_private_key(pem), private)
    assert load_public_key(public_key_to_pem(private.public_key())) == private.public_key()
    with pytest.raises(InvalidKeyError, match="no standard PKCS#8"):
        private_key_to_der(private)
    with pytest.raises(InvalidKeyError, match="no standard SPKI"):
        public_key_to_der(private.public_key())


@pytest.mark.parametrize("name", STANDARD + QSHIFT_FORMAT)
def test_raw_private_and_public_bytes_round_trip(name: str) -> None:
    algorithm = implementation(name)
    private = algorithm.generate()  # type: ignore[union-attr]
    again = algorithm.private_key_from_bytes(private.private_bytes_raw())  # type: ignore[union-attr]
    assert again.public_key() == private.public_key()
    assert algorithm.public_key_from_bytes(private.public_key().public_bytes_raw()) == private.public_key()  # type: ignore[union-attr]


def test_write_keypair_makes_private_0600_even_over_an_existing_file_and_public_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "site-a.key"
    target.write_text("old")
    target.chmod(0o644)
    private = implementation("MLDSA65-Ed25519").generate()  # type: ignore[union-attr]
    private_path, public_path = write_keypair(private, target)
    assert public_path == tmp_path / "site-a.key.pub"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(public_path.stat().st_mode) == 0o644
    assert _same_private(read_private_key(private_path), private)
    assert read_public_key(public_path) == private.public_key()


def test_key_file_errors_name_the_file_and_never_echo_key_bytes(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="missing.key: cannot read"):
        read_private_key(tmp_path / "missing.key")
    bad = tmp_path / "bad.key"
    bad.write_bytes(b"-----BEGIN PRIVATE KEY-----\n!!!notbase64\n-----END PRIVATE KEY-----\n")
    with pytest.raises(InvalidKeyError, match="bad.key"):
        read_private_key(bad)
    private = implementation("X-Wing").generate()  # type: ignore[union-attr]
    raw = private.private_bytes_raw()
    wrong = b"qshift-key-v1\x00NoSuchAlg\x00" + raw
    pem = b"-----BEGIN QSHIFT PRIVATE KEY-----\n" + base64.b64encode(wrong) + b"\n-----END QSHIFT PRIVATE KEY-----\n"
    with pytest.raises(InvalidKeyError, match="unknown algorithm 'NoSuchAlg'") as info:
        load_private_key(pem, "x.key")
    assert raw.hex()[:16] not in str(info.value)
    with pytest.raises(KeyFileError, match="cannot write"):
        write_keypair(private, tmp_path / "no-such-dir" / "k.key")


def test_truncated_qshift_raw_key_is_a_typed_error() -> None:
    body = b"qshift-key-v1\x00X-Wing\x00" + bytes(31)
    pem = b"-----BEGIN QSHIFT PRIVATE KEY-----\n" + base64.b64encode(body) + b"\n-----END QSHIFT PRIVATE KEY-----\n"
    with pytest.raises(InvalidKeyError, match="X-Wing private key .seed.: 31 bytes"):
        load_private_key(pem)
