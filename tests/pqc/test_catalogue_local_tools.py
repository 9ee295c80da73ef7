"""The table against the tools installed on this machine, run as real subprocesses: every algorithm
name OpenSSH offers (``ssh -Q``) is in the catalogue, and every TLS cipher suite OpenSSL lists
(``openssl ciphers -V -stdname``) has our code point, IANA name, OpenSSL name and components."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from pqc.catalogue import by_ssh_name, by_tls_cipher_suite, lookup

_SSH = shutil.which("ssh")
_OPENSSL = shutil.which("openssl")


def _ssh_query(kind: str) -> list[str]:
    proc = subprocess.run([_SSH, "-Q", kind], capture_output=True, text=True, timeout=30)
    return proc.stdout.split() if proc.returncode == 0 else []


@pytest.mark.skipif(_SSH is None, reason="no OpenSSH client on this machine")
@pytest.mark.parametrize("kind", ["kex", "cipher", "mac", "key", "key-sig"])
def test_every_algorithm_the_local_openssh_offers_is_in_the_catalogue(kind: str) -> None:
    names = _ssh_query(kind)
    if not names:
        pytest.skip(f"this ssh does not answer -Q {kind}")
    missing = [n for n in names if by_ssh_name(n) is None]
    assert missing == []


@pytest.mark.skipif(_SSH is None, reason="no OpenSSH client on this machine")
def test_openssh_post_quantum_kex_resolves_to_a_hybrid() -> None:
    pq = [n for n in _ssh_query("kex") if n.startswith(("sntrup", "mlkem"))]
    if not pq:
        pytest.skip("this OpenSSH offers no post-quantum key exchange")
    assert all(by_ssh_name(n).quantum_status.value == "hybrid" for n in pq)


_LINE = re.compile(
    r"0x(?P<hi>[0-9A-F]{2}),0x(?P<lo>[0-9A-F]{2}) - (?P<iana>\S+)\s+- (?P<ossl>\S+)\s+(?P<ver>\S+)\s+"
    r"Kx=(?P<kx>\S+)\s+Au=(?P<au>\S+)\s+Enc=(?P<enc>\S+)\s+Mac=(?P<mac>\S+)"
)
_KX = {"ECDH": "ECDH", "DH": "DH", "RSA": "RSA"}
_AU = {"RSA": "RSA", "ECDSA": "ECDSA"}
_ENC = {"AESGCM": "GCM", "AESCCM": "CCM", "AES": "CBC"}
_MAC = {"SHA1": "HMAC-SHA1", "SHA256": "HMAC-SHA256", "SHA384": "HMAC-SHA384", "MD5": "HMAC-MD5"}


def _openssl_suites() -> list[re.Match[str]]:
    proc = subprocess.run(
        [_OPENSSL, "ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
        capture_output=True, text=True, timeout=30,
    )
    return [m for m in map(_LINE.search, proc.stdout.splitlines()) if m]


@pytest.mark.skipif(_OPENSSL is None, reason="no openssl CLI on this machine")
def test_openssl_suite_table_agrees_with_ours_for_every_suite_we_both_know() -> None:
    checked = 0
    for m in _openssl_suites():
        ours = by_tls_cipher_suite(int(m["hi"] + m["lo"], 16))
        if ours is None:
            continue
        checked += 1
        assert ours.name == m["iana"]
        assert m["ossl"] == m["iana"] or m["ossl"] in ours.aliases, (m["ossl"], ours.name)
        if m["ver"] == "TLSv1.3":
            continue
        kex, auth, cipher, mac = ours.components
        assert _KX[m["kx"]] == kex and _AU[m["au"]] == auth
        enc, bits = re.match(r"(.+)\((\d+)\)", m["enc"]).groups()
        expected = {"CHACHA20/POLY1305": "ChaCha20-Poly1305", "3DES": "3DES-CBC", "RC4": "RC4", "DES": "DES-CBC"}
        assert cipher == expected.get(enc) or cipher == f"AES-{bits}-{_ENC[enc]}"
        assert lookup(cipher).key_bits == int(bits)
        if m["mac"] != "AEAD":
            assert mac == _MAC[m["mac"]]
    assert checked >= 20
