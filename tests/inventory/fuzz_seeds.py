"""Seed files of the fuzz tests (:mod:`tests.inventory.test_fuzz`), one list per input kind the scanner reads.

Certificates, keys, PKCS#12 stores and captures are real files made once with ``cryptography`` and scapy and
committed under ``fuzz_seeds/`` (fixed bytes, so that a failing case replays); regenerate them with
``python -m tests.inventory.fuzz_seeds``. Configs, manifests and source come from the fixture tree and the
labelled corpus. Each seed keeps a name the scanner classifies as that kind (``id_ed25519``,
``nginx.conf``, ``requirements.txt``…): the fuzz cases go through the file walker's own classification.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import struct
from functools import cache
from pathlib import Path

SEED_DIR = Path(__file__).parent / "fuzz_seeds"
#: The kinds, in the order the tests report them.
KINDS = ("certificate", "key", "pkcs12", "pcap", "config", "manifest", "source")


@cache
def seeds() -> dict[str, list[tuple[str, bytes]]]:
    """kind → [(file name, bytes)]."""
    from tests.inventory import fixture_tree
    from tests.inventory.recall import CORPUS

    out: dict[str, list[tuple[str, bytes]]] = {k: [] for k in KINDS}
    for kind in ("certificate", "key", "pkcs12", "pcap"):
        for p in sorted((SEED_DIR / kind).iterdir()):
            out[kind].append((p.name, p.read_bytes()))
    from inventory.sources import files

    for rel, text in sorted(fixture_tree.SOURCES.items()):
        name = rel.rsplit("/", 1)[-1]
        got = files.classify(rel, text.encode()[:4096])
        if got is None:
            continue
        family = {"code": "source"}.get(got[0], got[0])
        if family in out:
            out[family].append((name, text.encode()))
    for p in sorted(CORPUS.rglob("*")):
        if p.is_file() and p.suffix != ".md":
            out["source"].append((p.name, p.read_bytes()))
    return out


def _write_pcaps(dest: Path) -> None:
    from scapy.all import IP, TCP, UDP, Ether, IPv6, Raw, wrpcap
    from scapy.layers.l2 import CookedLinux
    from scapy.utils import PcapNgWriter

    from inventory.wire import ssh as sshw
    from inventory.wire import tls as tlsw
    from tests.inventory import netutil

    share = bytes(range(256)) * 4 + bytes(192) + bytes(range(32))  # 1,216 bytes: ML-KEM-768 ek ‖ X25519
    hello = tlsw.record(22, tlsw.build_client_hello([0x1301, 0x1302, 0xC02F], [0x11EC, 0x1D, 0x17],
                                                    {0x11EC: share, 0x1D: bytes(32)}))
    exts = struct.pack(">HHH", 43, 2, 0x0304) + struct.pack(">HHHH", 51, 4 + 64, 0x11EC, 64) + bytes(64)
    body = struct.pack(">H", 0x0303) + bytes(32) + b"\x00" + struct.pack(">HB", 0x1301, 0) + \
        struct.pack(">H", len(exts)) + exts
    server_hello = tlsw.record(22, bytes([2]) + len(body).to_bytes(3, "big") + body, 0x0303)
    kex_c = sshw.packet(sshw.build_kexinit(["mlkem768x25519-sha256", "curve25519-sha256"], ["ssh-ed25519"],
                                           ["aes256-gcm@openssh.com"], ["hmac-sha2-256"]))
    kex_s = sshw.packet(sshw.build_kexinit(["curve25519-sha256", "diffie-hellman-group14-sha256"],
                                           ["rsa-sha2-512"], ["chacha20-poly1305@openssh.com"], ["hmac-sha2-512"]))

    def tcp(src: str, dst: str, sport: int, dport: int, seq: int, payload: bytes = b"", flags: str = "PA"):
        return Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, seq=seq, flags=flags) / Raw(payload)

    c, s = ("10.0.0.1", 40000), ("10.0.0.2", 443)
    tls = [tcp(c[0], s[0], c[1], s[1], 999, flags="S"), tcp(s[0], c[0], s[1], c[1], 4999, flags="SA"),
           tcp(c[0], s[0], c[1], s[1], 1000 + 700, hello[700:]), tcp(c[0], s[0], c[1], s[1], 1000, hello[:700]),
           tcp(s[0], c[0], s[1], c[1], 5000, server_hello)]
    wrpcap(str(dest / "tls13.pcap"), tls)
    with PcapNgWriter(str(dest / "tls13.pcapng")) as w:
        for p in tls:
            w.write(p)
    ssh = [tcp("10.0.0.3", "10.0.0.4", 50000, 22, 99, flags="S"),
           tcp("10.0.0.3", "10.0.0.4", 50000, 22, 100, b"SSH-2.0-client\r\n" + kex_c),
           tcp("10.0.0.4", "10.0.0.3", 22, 50000, 700, b"SSH-2.0-server\r\n" + kex_s)]
    wrpcap(str(dest / "ssh.pcap"), ssh)

    ike = netutil.ike_sa_init(bytes(range(1, 9)))
    wrpcap(str(dest / "ike.pcap"), [Ether() / IP(src="10.0.0.5", dst="10.0.0.6") / UDP(sport=500, dport=500) /
                                    Raw(ike)])
    v6_ip = CookedLinux() / IPv6(src="fd00::1", dst="fd00::2")
    v6 = [v6_ip / TCP(sport=40001, dport=443, seq=1, flags="S"),
          v6_ip / TCP(sport=40001, dport=443, seq=2, flags="PA") / Raw(hello)]
    wrpcap(str(dest / "v6-cooked.pcap"), v6)


def generate(dest: Path = SEED_DIR) -> None:
    """Write the certificate, key, PKCS#12 and capture seeds under ``dest`` (replacing what is there)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, mldsa, mlkem, rsa
    from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
    from cryptography.x509.oid import NameOID

    from tests.conftest import SHARED_VECTORS
    from tests.inventory import fixture_tree

    enc, pf = serialization.Encoding, serialization.PrivateFormat
    none = serialization.NoEncryption()
    for kind in ("certificate", "key", "pkcs12", "pcap"):
        d = dest / kind
        d.mkdir(parents=True, exist_ok=True)
        for p in d.iterdir():
            p.unlink()
    cert_dir, key_dir, p12_dir = dest / "certificate", dest / "key", dest / "pkcs12"
    leaf, ca, leaf_key, ca_key = fixture_tree.make_chain()
    (cert_dir / "chain.pem").write_bytes(leaf.public_bytes(enc.PEM) + ca.public_bytes(enc.PEM))
    (cert_dir / "leaf.der").write_bytes(leaf.public_bytes(enc.DER))
    (cert_dir / "root.crt").write_bytes(ca.public_bytes(enc.DER))
    (cert_dir / "bundle.p7b").write_bytes(pkcs7.serialize_certificates([leaf, ca], enc.DER))
    (cert_dir / "bundle-pem.p7c").write_bytes(pkcs7.serialize_certificates([leaf, ca], enc.PEM))
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fuzz.example"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qshift")])
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ed.public_key())
               .serial_number(7).not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName("fuzz.example"),
                                                           x509.IPAddress(__import__("ipaddress").ip_address("::1"))]),
                              critical=False)
               .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
               .sign(ed, None))
    (cert_dir / "ed25519.cer").write_bytes(ed_cert.public_bytes(enc.PEM))
    ml = mldsa.MLDSA44PrivateKey.generate()
    ml_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ml.public_key())
               .serial_number(8).not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(ml, None))
    (cert_dir / "mldsa44.pem").write_bytes(ml_cert.public_bytes(enc.PEM))
    (cert_dir / "ML-DSA-65.crt").write_bytes((SHARED_VECTORS / "ml-dsa-certs" / "ML-DSA-65.crt").read_bytes())
    csr = (x509.CertificateSigningRequestBuilder().subject_name(name)
           .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()))
    (cert_dir / "request.csr").write_bytes(csr.public_bytes(enc.PEM))
    try:
        import certifi

        bundle = Path(certifi.where()).read_bytes()
        blocks = bundle.split(b"-----END CERTIFICATE-----\n")
        (cert_dir / "cacert.pem").write_bytes(b"".join(b + b"-----END CERTIFICATE-----\n" for b in blocks[:6]
                                                      if b"BEGIN" in b))
    except ImportError:  # pragma: no cover
        pass

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP384R1())
    (key_dir / "rsa-pkcs8.key").write_bytes(rsa_key.private_bytes(enc.PEM, pf.PKCS8, none))
    (key_dir / "rsa-pkcs1.pem").write_bytes(rsa_key.private_bytes(enc.PEM, pf.TraditionalOpenSSL, none))
    (key_dir / "ec-sec1.key").write_bytes(ec_key.private_bytes(enc.PEM, pf.TraditionalOpenSSL, none))
    (key_dir / "ec-pkcs8.p8").write_bytes(ec_key.private_bytes(enc.DER, pf.PKCS8, none))
    (key_dir / "dsa.key").write_bytes(dsa.generate_private_key(2048).private_bytes(enc.PEM, pf.PKCS8, none))
    (key_dir / "ed25519.key").write_bytes(ed.private_bytes(enc.PEM, pf.PKCS8, none))
    (key_dir / "mldsa44.key").write_bytes(ml.private_bytes(enc.PEM, pf.PKCS8, none))
    (key_dir / "mlkem768.key").write_bytes(mlkem.MLKEM768PrivateKey.generate().private_bytes(enc.PEM, pf.PKCS8,
                                                                                             none))
    (key_dir / "ML-DSA-44-seed.key").write_bytes((SHARED_VECTORS / "ml-dsa-certs" / "ML-DSA-44-seed.priv")
                                                 .read_bytes())
    (key_dir / "rsa-public.pem").write_bytes(rsa_key.public_key().public_bytes(
        enc.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (key_dir / "rsa-pkcs1-public.pem").write_bytes(rsa_key.public_key().public_bytes(
        enc.PEM, serialization.PublicFormat.PKCS1))
    (key_dir / "ec-public.der").write_bytes(ec_key.public_key().public_bytes(
        enc.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    (key_dir / "encrypted.key").write_bytes(ec_key.private_bytes(
        enc.PEM, pf.PKCS8, serialization.BestAvailableEncryption(b"pw")))
    (key_dir / "id_ed25519").write_bytes(ed.private_bytes(enc.PEM, pf.OpenSSH, none))
    (key_dir / "id_ecdsa").write_bytes(ec_key.private_bytes(enc.PEM, pf.OpenSSH, none))
    ssh_rsa = rsa_key.public_key().public_bytes(enc.OpenSSH, serialization.PublicFormat.OpenSSH)
    ssh_ed = ed.public_key().public_bytes(enc.OpenSSH, serialization.PublicFormat.OpenSSH)
    (key_dir / "id_rsa.pub").write_bytes(ssh_rsa + b" me@example\n")
    (key_dir / "authorized_keys").write_bytes(b"# admins\n" + ssh_ed + b" alice\n" + b'from="10.0.0.0/8",no-pty '
                                              + ssh_rsa + b" bob\nssh-mldsa65 AAAAC3NzaC1tbGRzYTY1AAAAIAAA carol\n")
    (key_dir / "known_hosts").write_bytes(b"example.com,10.0.0.1 " + ssh_rsa + b"\n|1|c2FsdA==|aGFzaA== " + ssh_ed
                                          + b"\n")
    n = rsa_key.public_key().public_numbers().n
    jwks = {"keys": [{"kty": "RSA", "kid": "r1", "alg": "RS256", "e": "AQAB",
                      "n": base64.urlsafe_b64encode(n.to_bytes(256, "big")).rstrip(b"=").decode()},
                     {"kty": "EC", "kid": "e1", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                      "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
                     {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
                     {"kty": "oct", "k": "GawgguFyGrWKav7AX4VKUg", "alg": "HS256"},
                     {"kty": "AKP", "alg": "ML-DSA-44", "pub": "AAAA"}]}
    (key_dir / "keys.jwks").write_text(json.dumps(jwks, indent=1))
    qbody = b"qshift-key-v1\x00X-Wing\x00" + bytes(range(32))
    (key_dir / "gateway.key").write_bytes(b"-----BEGIN QSHIFT PRIVATE KEY-----\n" + base64.encodebytes(qbody)
                                          + b"-----END QSHIFT PRIVATE KEY-----\n")

    p12_key = ec.generate_private_key(ec.SECP256R1())
    p12_cert = fixture_tree._self_signed(p12_key, "p12.example")
    (p12_dir / "plain.p12").write_bytes(pkcs12.serialize_key_and_certificates(b"store", p12_key, p12_cert, [ca],
                                                                              none))
    (p12_dir / "rsa-chain.pfx").write_bytes(pkcs12.serialize_key_and_certificates(b"leaf", leaf_key, leaf, [ca], none))
    (p12_dir / "certs-only.p12").write_bytes(pkcs12.serialize_key_and_certificates(None, None, None, [leaf, ca],
                                                                                   none))
    # one KDF round and the password the fuzz scan is given ("x"): a store whose password is tried on every
    # case must not cost 20,000 PBKDF2 rounds a case
    legacy = (pf.PKCS12.encryption_builder().kdf_rounds(1)
              .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(hashes.SHA1()).build(b"x"))
    (p12_dir / "legacy-3des.p12").write_bytes(pkcs12.serialize_key_and_certificates(b"e", ed, None, None, legacy))
    _write_pcaps(dest / "pcap")


if __name__ == "__main__":
    generate()
    for kind, items in seeds().items():
        print(kind, len(items), sum(len(b) for _, b in items), "bytes")
    os._exit(0)
