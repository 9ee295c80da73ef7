"""Builds the fixture tree of the inventory tests: code in every supported language, real certificates and
keys made with ``cryptography`` (plus the published ML-DSA certificates), configs and manifests, each
file with the assets it must yield. ``EXPECTED`` entries are ``(label, relative path, line, token)``; the
expected column is where ``token`` starts on that line.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, mlkem, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

P12_PASSWORD = "hunter2"

SOURCES: dict[str, str] = {
    "src/app.py": '''import hashlib
from cryptography.hazmat.primitives.asymmetric import rsa, ec
KEY_BITS = 2048
key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
curve_key = ec.generate_private_key(ec.SECP256R1())
digest = hashlib.md5(b"legacy").hexdigest()
# hashlib.sha1 in a comment is not a finding
text = "hashlib.sha1() in a string is not a finding"
''',
    "src/App.java": '''import java.security.*;
public class App {
  static final int BITS = 3072;
  void run() throws Exception {
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("RSA");
    kpg.initialize(BITS);
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    MessageDigest md = MessageDigest.getInstance("SHA-1");
    // Cipher.getInstance("DES") in a comment is not a finding
  }
}
''',
    "src/main.go": '''package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
)

const keyBits = 1024

func main() {
	k, _ := rsa.GenerateKey(rand.Reader, keyBits)
	e, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	cfg := &tls.Config{CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519}}
	_, _, _ = k, e, cfg
}
''',
    "web/app.js": '''const crypto = require("crypto");
const hash = crypto.createHash("sha256").update("x").digest("hex");
const { publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 4096 });
const cipher = crypto.createCipheriv("des-ede3-cbc", key, iv);
''',
    "web/sign.ts": '''export async function makeKey(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, ["sign"]);
}
''',
    "native/legacy.c": '''#include <openssl/evp.h>
#define RSA_BITS 2048
void f(RSA *rsa, BIGNUM *e) {
  RSA_generate_key_ex(rsa, RSA_BITS, e, NULL);
  const EVP_MD *md = EVP_md5();
  EVP_PKEY *kem = EVP_PKEY_Q_keygen(NULL, NULL, "ML-KEM-768");
}
''',
    "native/tls.cpp": '''#include <openssl/ssl.h>
void setup(SSL_CTX *ctx) {
  SSL_CTX_set1_groups_list(ctx, "X25519MLKEM768:X25519");
  EC_KEY *k = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
}
''',
    "dotnet/Crypto.cs": '''using System.Security.Cryptography;
class Crypto {
  const int Bits = 1024;
  void Run() {
    using var rsa = RSA.Create(Bits);
    using var sha = SHA1.Create();
    var ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
  }
}
''',
    "etc/ssh/sshd_config": '''# test server
KexAlgorithms mlkem768x25519-sha256,curve25519-sha256,-diffie-hellman-group1-sha1
HostKeyAlgorithms ssh-ed25519,rsa-sha2-512
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com
MACs hmac-sha2-256-etm@openssh.com
''',
    "etc/nginx/nginx.conf": '''server {
    listen 443 ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:!aNULL;
    ssl_ecdh_curve X25519MLKEM768:prime256v1;
}
''',
    "etc/apache2/ssl.conf": '''SSLCipherSuite ECDHE-ECDSA-AES256-GCM-SHA384
SSLOpenSSLConfCmd Groups X25519
''',
    "etc/haproxy/haproxy.cfg": '''global
    ssl-default-bind-ciphersuites TLS_AES_256_GCM_SHA384
    ssl-default-bind-curves X25519MLKEM768:X25519
''',
    "etc/ssl/openssl.cnf": '''[system_default_sect]
MinProtocol = TLSv1.2
Groups = X25519MLKEM768:X25519
''',
    "jre/conf/security/java.security": '''jdk.tls.disabledAlgorithms=SSLv3, RC4, DES
jdk.tls.namedGroups=x25519, secp256r1
''',
    "requirements.txt": '''cryptography>=47.0
pycryptodome==3.20.0
requests>=2
''',
    "web/package.json": '''{
  "name": "web",
  "dependencies": {
    "jsonwebtoken": "^9.0.0",
    "@noble/post-quantum": "^0.2.0"
  }
}
''',
    "src/go.mod": '''module example.com/app

go 1.22

require (
	github.com/cloudflare/circl v1.3.7
	golang.org/x/crypto v0.21.0
)
''',
    "jvm/pom.xml": '''<project xmlns="http://maven.apache.org/POM/4.0.0">
  <dependencies>
    <dependency>
      <groupId>org.bouncycastle</groupId>
      <artifactId>bcprov-jdk18on</artifactId>
      <version>1.78</version>
    </dependency>
  </dependencies>
</project>
''',
    "rust/Cargo.toml": '''[package]
name = "x"

[dependencies]
rustls = "0.23.20"
ring = "0.17"
''',
    "src/more.py": """import hmac
import hashlib
import ssl
import jwt
import rsa
import paramiko
from ecdsa import SigningKey, NIST384p
from Crypto.Cipher import AES
from Crypto.PublicKey import RSA as PRSA
from jose import jwt as jose_jwt
AES_KEY = b"0123456789abcdef0123456789abcdef"
mac = hmac.new(b"k", b"m", hashlib.sha256)
cipher = AES.new(AES_KEY, AES.MODE_GCM)
pk = PRSA.generate(1024)
token = jwt.encode({"a": 1}, "secret", algorithm="HS256")
claims = jose_jwt.decode(token, "k", algorithms=["RS256"])
pub, priv = rsa.newkeys(512)
sk = SigningKey.generate(curve=NIST384p)
host = paramiko.RSAKey.generate(bits=2048)
ctx = ssl.create_default_context()
ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
ctx.set_ecdh_curve("prime256v1")
hash = hashlib.sha256()
hash.update(b"a local named like a module alias is not a finding")
label = alg.name.lower()
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
KEY16 = b"k" * 16
ecb = Cipher(algorithms.AES(KEY16), modes.ECB())
legacy = ssl.SSLContext(ssl.PROTOCOL_TLSv1)
""",
    "jvm/Bc.java": """import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
class Bc {
  void f() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "BC");
    g.initialize(new ECGenParameterSpec("secp384r1"));
    Signature s = Signature.getInstance("SHA256withECDSA");
    KeyAgreement ka = KeyAgreement.getInstance("X25519");
    Mac m = Mac.getInstance("HmacSHA256");
    org.bouncycastle.crypto.engines.AESEngine e = new org.bouncycastle.crypto.engines.AESEngine();
    KeyPairGenerator mk = KeyPairGenerator.getInstance("ML-KEM-768");
    Cipher d = Cipher.getInstance("DESede/ECB/PKCS5Padding");
    SSLContext tls = SSLContext.getInstance("TLSv1.1");
  }
}
""",
    "src/xcrypto.go": """package main

import (
	"crypto/sha1"
	"crypto/tls"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/curve25519"
)

func x() {
	_ = sha1.Sum([]byte("x"))
	a, _ := chacha20poly1305.New(key)
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}
	s, _ := curve25519.X25519(k, curve25519.Basepoint)
}
""",
    "web/jwt.js": """const jwt = require("jsonwebtoken");
const t = jwt.sign({ a: 1 }, key, { algorithm: "RS256" });
const k = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"]);
""",
    "etc/ssh/ssh_config": """Host *
    KexAlgorithms sntrup761x25519-sha512@openssh.com,ecdh-sha2-nistp256
    HostKeyAlgorithms ecdsa-sha2-nistp256
    Ciphers aes128-ctr
    MACs hmac-sha1
""",
    "pyproject.toml": """[project]
name = "x"
dependencies = ["cryptography>=42", "pyjwt==2.8.0", "liboqs-python"]
""",
    # noise: mentions crypto but holds no crypto use
    "README.md": "We use RSA-2048 and MD5 here (documentation, not code).\n",
    "src/notes.py": "# RSA and md5 in comments only\nx = 'sha1'\n",
    # ignored and excluded: would yield findings if scanned
    ".gitignore": "ignored/\n",
    "ignored/secret.py": "import hashlib\nhashlib.md5()\n",
    "vendor/lib.py": "import hashlib\nhashlib.sha1()\n",
}

#: Bad inputs: relative path → expected start of the skip reason.
BAD_FILES: dict[str, bytes] = {
    "bad/broken.pem": b"-----BEGIN CERTIFICATE-----\nMIIBnotbase64!!\n-----END CERTIFICATE-----\n",
    "bad/syntax.py": b"import hashlib\ndef f(:\n",
    "bad/binary.py": b"\x00\x01\x02hashlib\x00",
    "bad/big.py": b"import hashlib\n" + b"#" * 70000 + b"\n",
}
BAD_REASONS = {"bad/broken.pem": "malformed", "bad/syntax.py": "malformed", "bad/binary.py": "binary",
               "bad/big.py": "too large"}
MAX_FILE_BYTES = 65536

EXPECTED: list[tuple[str, str, int, str]] = [
    ("RSA-2048", "src/app.py", 4, "rsa.generate_private_key"),
    ("ECDSA-P256", "src/app.py", 5, "ec.generate_private_key"),
    ("MD5", "src/app.py", 6, "hashlib.md5"),
    ("RSA-3072", "src/App.java", 5, "KeyPairGenerator.getInstance"),
    ("AES-GCM", "src/App.java", 7, "Cipher.getInstance"),
    ("SHA-1", "src/App.java", 8, "MessageDigest.getInstance"),
    ("RSA-1024", "src/main.go", 14, "rsa.GenerateKey"),
    ("ECDSA-P384", "src/main.go", 15, "ecdsa.GenerateKey"),
    ("X25519MLKEM768", "src/main.go", 16, "tls.X25519MLKEM768"),
    ("X25519", "src/main.go", 16, "tls.X25519}"),
    ("SHA-256", "web/app.js", 2, "crypto.createHash"),
    ("RSA-4096", "web/app.js", 3, "crypto.generateKeyPairSync"),
    ("3DES-CBC", "web/app.js", 4, "crypto.createCipheriv"),
    ("ECDSA-P384", "web/sign.ts", 2, "crypto.subtle.generateKey"),
    ("RSA-2048", "native/legacy.c", 4, "RSA_generate_key_ex"),
    ("MD5", "native/legacy.c", 5, "EVP_md5"),
    ("ML-KEM-768", "native/legacy.c", 6, "EVP_PKEY_Q_keygen"),
    ("X25519MLKEM768", "native/tls.cpp", 3, "SSL_CTX_set1_groups_list"),
    ("X25519", "native/tls.cpp", 3, "SSL_CTX_set1_groups_list"),
    ("ECDSA-P256", "native/tls.cpp", 4, "EC_KEY_new_by_curve_name"),
    ("RSA-1024", "dotnet/Crypto.cs", 5, "RSA.Create"),
    ("SHA-1", "dotnet/Crypto.cs", 6, "SHA1.Create"),
    ("ECDH-P256", "dotnet/Crypto.cs", 7, "ECDiffieHellman.Create"),
    ("mlkem768x25519-sha256", "etc/ssh/sshd_config", 2, "mlkem768x25519-sha256"),
    ("X25519", "etc/ssh/sshd_config", 2, "curve25519-sha256"),
    ("Ed25519", "etc/ssh/sshd_config", 3, "ssh-ed25519"),
    ("RSASSA-PKCS1-v1_5-SHA512", "etc/ssh/sshd_config", 3, "rsa-sha2-512"),
    ("ChaCha20-Poly1305", "etc/ssh/sshd_config", 4, "chacha20-poly1305@openssh.com"),
    ("AES-256-GCM", "etc/ssh/sshd_config", 4, "aes256-gcm@openssh.com"),
    ("HMAC-SHA256", "etc/ssh/sshd_config", 5, "hmac-sha2-256-etm@openssh.com"),
    ("protocol:nginx:tlsv1.2", "etc/nginx/nginx.conf", 3, "TLSv1.2"),
    ("protocol:nginx:tlsv1.3", "etc/nginx/nginx.conf", 3, "TLSv1.3"),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "etc/nginx/nginx.conf", 4, "ECDHE-RSA-AES128-GCM-SHA256"),
    ("X25519MLKEM768", "etc/nginx/nginx.conf", 5, "X25519MLKEM768"),
    ("ECDH-P256", "etc/nginx/nginx.conf", 5, "prime256v1"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "etc/apache2/ssl.conf", 1, "ECDHE-ECDSA-AES256-GCM-SHA384"),
    ("X25519", "etc/apache2/ssl.conf", 2, "X25519"),
    ("TLS_AES_256_GCM_SHA384", "etc/haproxy/haproxy.cfg", 2, "TLS_AES_256_GCM_SHA384"),
    ("X25519MLKEM768", "etc/haproxy/haproxy.cfg", 3, "X25519MLKEM768"),
    ("X25519", "etc/haproxy/haproxy.cfg", 3, "X25519\n"),
    ("protocol:openssl.cnf:tlsv1.2", "etc/ssl/openssl.cnf", 2, "TLSv1.2"),
    ("X25519MLKEM768", "etc/ssl/openssl.cnf", 3, "X25519MLKEM768"),
    ("X25519", "etc/ssl/openssl.cnf", 3, "X25519\n"),
    ("X25519", "jre/conf/security/java.security", 2, "x25519"),
    ("ECDH-P256", "jre/conf/security/java.security", 2, "secp256r1"),
    ("library:pypi/cryptography", "requirements.txt", 1, "cryptography"),
    ("library:pypi/pycryptodome", "requirements.txt", 2, "pycryptodome"),
    ("library:npm/jsonwebtoken", "web/package.json", 4, '"jsonwebtoken"'),
    ("library:npm/@noble/post-quantum", "web/package.json", 5, '"@noble/post-quantum"'),
    ("library:go/github.com/cloudflare/circl", "src/go.mod", 6, "github.com/cloudflare/circl"),
    ("library:go/golang.org/x/crypto", "src/go.mod", 7, "golang.org/x/crypto"),
    ("library:maven/org.bouncycastle:bcprov-jdk18on", "jvm/pom.xml", 5, "<artifactId>"),
    ("library:cargo/rustls", "rust/Cargo.toml", 5, "rustls"),
    ("library:cargo/ring", "rust/Cargo.toml", 6, "ring"),
    ("HMAC-SHA256", "src/more.py", 12, "hmac.new"),
    ("AES-256-GCM", "src/more.py", 13, "AES.new"),
    ("RSA-1024", "src/more.py", 14, "PRSA.generate"),
    ("HMAC-SHA256", "src/more.py", 15, "jwt.encode"),
    ("RSASSA-PKCS1-v1_5-SHA256", "src/more.py", 16, '"RS256"'),
    ("RSA-512", "src/more.py", 17, "rsa.newkeys"),
    ("ECDSA-P384", "src/more.py", 18, "SigningKey.generate"),
    ("RSA-2048", "src/more.py", 19, "paramiko.RSAKey.generate"),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "src/more.py", 21, "ctx.set_ciphers"),
    ("ECDH-P256", "src/more.py", 22, "ctx.set_ecdh_curve"),
    ("SHA-256", "src/more.py", 23, "hashlib.sha256"),
    ("ECDSA-P384", "jvm/Bc.java", 5, "KeyPairGenerator.getInstance"),
    ("ECDSA-SHA256", "jvm/Bc.java", 7, "Signature.getInstance"),
    ("X25519", "jvm/Bc.java", 8, "KeyAgreement.getInstance"),
    ("HMAC-SHA256", "jvm/Bc.java", 9, "Mac.getInstance"),
    ("AES", "jvm/Bc.java", 10, "new "),
    ("ML-KEM-768", "jvm/Bc.java", 11, "KeyPairGenerator.getInstance"),
    ("3DES-ECB", "jvm/Bc.java", 12, "Cipher.getInstance"),
    ("protocol:java:tlsv1.1", "jvm/Bc.java", 13, "SSLContext.getInstance"),
    ("protocol:cpp:tlsv1.0", "native/tls.cpp", 5, "SSL_CTX_set_min_proto_version"),
    ("AES-128-ECB", "src/more.py", 28, "Cipher("),
    ("protocol:python:tlsv1.0", "src/more.py", 29, "ssl.SSLContext"),
    ("SHA-1", "src/xcrypto.go", 11, "sha1.Sum"),
    ("ChaCha20-Poly1305", "src/xcrypto.go", 12, "chacha20poly1305.New"),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "src/xcrypto.go", 13, "tls.TLS_ECDHE"),
    ("X25519", "src/xcrypto.go", 14, "curve25519.X25519"),
    ("protocol:go:tlsv1.2", "src/xcrypto.go", 13, "tls.VersionTLS12"),
    ("RSASSA-PKCS1-v1_5-SHA256", "web/jwt.js", 2, "jwt.sign"),
    ("AES-256-GCM", "web/jwt.js", 3, "crypto.subtle.generateKey"),
    ("sntrup761x25519-sha512", "etc/ssh/ssh_config", 2, "sntrup761x25519-sha512@openssh.com"),
    ("ECDH-P256", "etc/ssh/ssh_config", 2, "ecdh-sha2-nistp256"),
    ("ECDSA-P256", "etc/ssh/ssh_config", 3, "ecdsa-sha2-nistp256"),
    ("AES-128-CTR", "etc/ssh/ssh_config", 4, "aes128-ctr"),
    ("HMAC-SHA1", "etc/ssh/ssh_config", 5, "hmac-sha1"),
    ("library:pypi/cryptography", "pyproject.toml", 3, "cryptography"),
    ("library:pypi/pyjwt", "pyproject.toml", 3, "pyjwt"),
    ("library:pypi/liboqs-python", "pyproject.toml", 3, "liboqs-python"),
]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_chain() -> tuple[x509.Certificate, x509.Certificate, rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]:
    """A P-384 root CA (ECDSA-SHA384) and an RSA-2048 leaf it signs."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Test Root")).issuer_name(_name("Test Root"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA384()))
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = (x509.CertificateBuilder().subject_name(_name("leaf.example")).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(2).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=90))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return leaf, ca, leaf_key, ca_key


def _self_signed(key: ec.EllipticCurvePrivateKey, cn: str) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(3).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def build(root: Path, shared_vectors: Path) -> list[tuple[str, str, int, int]]:
    """Write the tree under ``root``; return the expected ``(label, path, line, column)`` set."""
    for rel, text in SOURCES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for rel, data in BAD_FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    expected = []
    for label, rel, line, token in EXPECTED:
        text = SOURCES[rel].splitlines(keepends=True)[line - 1]
        expected.append((label, rel, line, text.index(token) + 1))

    certs = root / "certs"
    certs.mkdir()
    leaf, ca, leaf_key, ca_key = make_chain()
    pem = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    (certs / "chain.pem").write_bytes(pem)
    text_pem = pem.decode()
    ca_line = text_pem[: text_pem.index("-----BEGIN CERTIFICATE-----", 1)].count("\n") + 1
    for rel, line in (("certs/chain.pem", 1),):
        expected += [("cert:CN=leaf.example", rel, line, 1), ("ECDSA-SHA256", rel, line, 1),
                     ("key:RSA-2048", rel, line, 1), ("RSA-2048", rel, line, 1)]
    expected += [("cert:CN=Test Root", "certs/chain.pem", ca_line, 1), ("ECDSA-SHA384", "certs/chain.pem", ca_line, 1),
                 ("key:ECDSA-P384", "certs/chain.pem", ca_line, 1), ("ECDSA-P384", "certs/chain.pem", ca_line, 1)]
    # PKCS#7 bundle (DER) of the same chain
    (certs / "bundle.p7b").write_bytes(pkcs7.serialize_certificates([leaf, ca], serialization.Encoding.DER))
    for label in ("cert:CN=leaf.example", "ECDSA-SHA256", "key:RSA-2048", "RSA-2048", "cert:CN=Test Root",
                  "ECDSA-SHA384", "key:ECDSA-P384", "ECDSA-P384"):
        expected.append((label, "certs/bundle.p7b", 1, 1))
    # PKCS#12 with a password
    p12_key = ec.generate_private_key(ec.SECP256R1())
    p12_cert = _self_signed(p12_key, "p12.example")
    (certs / "store.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        b"store", p12_key, p12_cert, None,
        serialization.BestAvailableEncryption(P12_PASSWORD.encode())))
    expected += [(lab, "certs/store.p12", 1, 1) for lab in ("cert:CN=p12.example", "ECDSA-SHA256", "key:ECDSA-P256",
                                                             "ECDSA-P256")]
    # ML-DSA certificate and seed-format private key from the published vectors
    shutil.copy(shared_vectors / "ml-dsa-certs" / "ML-DSA-65.crt", certs / "ML-DSA-65.crt")
    shutil.copy(shared_vectors / "ml-dsa-certs" / "ML-DSA-44-seed.priv", certs / "mldsa44.key")
    expected += [("cert:CN=LAMPS WG,O=IETF", "certs/ML-DSA-65.crt", 1, 1), ("ML-DSA-65", "certs/ML-DSA-65.crt", 1, 1),
                 ("key:ML-DSA-65", "certs/ML-DSA-65.crt", 1, 1), ("key:ML-DSA-44", "certs/mldsa44.key", 1, 1),
                 ("ML-DSA-44", "certs/mldsa44.key", 1, 1)]
    # DER certificate (P-521, ECDSA-SHA512), ML-KEM-768 private key (PKCS#8 PEM) and an ML-KEM certificate
    # signed by an ML-DSA-65 CA
    der_key = ec.generate_private_key(ec.SECP521R1())
    der_cert = (x509.CertificateBuilder().subject_name(_name("der.example")).issuer_name(_name("der.example"))
                .public_key(der_key.public_key()).serial_number(5).not_valid_before(dt.datetime.now(dt.UTC))
                .not_valid_after(dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).sign(der_key, hashes.SHA512()))
    (certs / "leaf.der").write_bytes(der_cert.public_bytes(serialization.Encoding.DER))
    expected += [(lab, "certs/leaf.der", 1, 1) for lab in ("cert:CN=der.example", "ECDSA-SHA512", "key:ECDSA-P521",
                                                            "ECDSA-P521")]
    kem_key = mlkem.MLKEM768PrivateKey.generate()
    (certs / "mlkem.key").write_bytes(kem_key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    (certs / "mlkem.key").chmod(0o600)
    expected += [("key:ML-KEM-768", "certs/mlkem.key", 1, 1), ("ML-KEM-768", "certs/mlkem.key", 1, 1)]
    kem_ca = mldsa.MLDSA65PrivateKey.generate()
    kem_cert = (x509.CertificateBuilder().subject_name(_name("kem.example")).issuer_name(_name("PQ CA"))
                .public_key(kem_key.public_key()).serial_number(9).not_valid_before(dt.datetime.now(dt.UTC))
                .not_valid_after(dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).sign(kem_ca, None))
    (certs / "kem.crt").write_bytes(kem_cert.public_bytes(serialization.Encoding.PEM))
    expected += [(lab, "certs/kem.crt", 1, 1) for lab in ("cert:CN=kem.example", "ML-DSA-65", "key:ML-KEM-768",
                                                           "ML-KEM-768")]
    # the certificate of mlkem.key's public key: one asset, also found where its private key is
    expected.append(("cert:CN=kem.example", "certs/mlkem.key", 1, 1))
    # OpenSSH private key, authorized_keys with options, JWKS
    keys = root / "home" / ".ssh"
    keys.mkdir(parents=True)
    edk = ed25519.Ed25519PrivateKey.generate()
    (keys / "id_ed25519").write_bytes(edk.private_bytes(serialization.Encoding.PEM,
                                                        serialization.PrivateFormat.OpenSSH,
                                                        serialization.NoEncryption()))
    expected += [("key:Ed25519", "home/.ssh/id_ed25519", 1, 1), ("Ed25519", "home/.ssh/id_ed25519", 1, 1)]
    rsa3072 = rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key()
    ak_lines = [
        "# admins",
        edk.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
        + " alice@example",
        'from="10.0.0.0/8" ' + rsa3072.public_bytes(serialization.Encoding.OpenSSH,
                                                    serialization.PublicFormat.OpenSSH).decode() + " bob",
    ]
    (keys / "authorized_keys").write_text("\n".join(ak_lines) + "\n")
    rsa_pub = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    kh_lines = ["example.com,10.0.0.1 " + rsa_pub, "|1|c2FsdA==|aGFzaA== " + rsa_pub]
    (keys / "known_hosts").write_text("\n".join(kh_lines) + "\n")
    (keys / "id_rsa.pub").write_text(rsa_pub + " me@example\n")
    for i, ln in enumerate(kh_lines, 1):
        expected += [(lab, "home/.ssh/known_hosts", i, ln.index("ssh-rsa") + 1) for lab in ("key:RSA-2048", "RSA-2048")]
    expected += [("key:RSA-2048", "home/.ssh/id_rsa.pub", 1, 1), ("RSA-2048", "home/.ssh/id_rsa.pub", 1, 1)]
    expected += [("key:Ed25519", "home/.ssh/authorized_keys", 2, 1), ("Ed25519", "home/.ssh/authorized_keys", 2, 1),
                 ("key:RSA-3072", "home/.ssh/authorized_keys", 3, ak_lines[2].index("ssh-rsa") + 1),
                 ("RSA-3072", "home/.ssh/authorized_keys", 3, ak_lines[2].index("ssh-rsa") + 1)]
    n = leaf_key.public_key().public_numbers().n
    jwks = {"keys": [{"kty": "RSA", "kid": "rsa1", "alg": "RS256", "use": "sig",
                      "n": base64.urlsafe_b64encode(n.to_bytes(256, "big")).rstrip(b"=").decode(), "e": "AQAB"}]}
    text = json.dumps(jwks, indent=2)
    (root / "web" / "jwks.json").write_text(text)
    jl = _line_of(text, '"rsa1"')
    expected += [("key:RSA-2048", "web/jwks.json", jl, 1), ("RSA-2048", "web/jwks.json", jl, 1),
                 ("RSASSA-PKCS1-v1_5-SHA256", "web/jwks.json", jl, 1)]
    return [(lab, str(root / rel), line, col) for lab, rel, line, col in expected]
