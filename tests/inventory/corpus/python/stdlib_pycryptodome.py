# ruff: noqa
# mypy: ignore-errors
"""hashlib, hmac, ssl, secrets and PyCryptodome. Never run."""

import hashlib
import hmac
import ssl

from Crypto.Cipher import AES, ARC4, DES3, PKCS1_OAEP, Blowfish, ChaCha20_Poly1305, Salsa20
from Crypto.Hash import MD4, SHA256, HMAC, CMAC, RIPEMD160
from Crypto.Protocol.KDF import PBKDF2, HKDF, scrypt, bcrypt
from Crypto.PublicKey import DSA, ECC, RSA, ElGamal
from Crypto.Signature import DSS, eddsa, pkcs1_15, pss

KEY = b"0123456789abcdef0123456789abcdef"


def stdlib(data, key, salt):
    a = hashlib.md5(data)  # expect: MD5
    b = hashlib.sha1(data)  # expect: SHA-1
    c = hashlib.new("sha256", data)  # expect: SHA-256
    d = hashlib.sha3_512(data)  # expect: SHA3-512
    e = hashlib.blake2b(data)  # expect: BLAKE2b-512
    f = hashlib.pbkdf2_hmac("sha256", key, salt, 100000)  # expect: PBKDF2
    g = hashlib.scrypt(key, salt=salt, n=16384, r=8, p=1)  # expect: scrypt
    h = hmac.new(key, data, hashlib.sha256)  # expect: HMAC-SHA256
    i = hmac.new(key, data, "md5")  # expect: HMAC-MD5
    j = hmac.digest(key, data, "sha512")  # expect: HMAC-SHA512
    return a, b, c, d, e, f, g, h, i, j


def tls():
    old = ssl.SSLContext(ssl.PROTOCOL_TLSv1)  # expect: tlsv1.0
    ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1  # expect: tlsv1.1
    ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")  # expect: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    ctx.set_ecdh_curve("prime256v1")  # expect: ECDH-P256
    return old, ctx


def pycryptodome(data, iv, nonce, pw, salt):
    gcm = AES.new(KEY, AES.MODE_GCM, nonce=nonce)  # expect: AES-256-GCM
    cbc = AES.new(KEY[:16], AES.MODE_CBC, iv)  # expect: AES-128-CBC
    eax = AES.new(KEY, AES.MODE_EAX)  # expect: AES-256-EAX
    d3 = DES3.new(KEY[:24], DES3.MODE_CBC, iv)  # expect: 3DES-CBC
    rc4 = ARC4.new(KEY)  # expect: RC4
    bf = Blowfish.new(KEY, Blowfish.MODE_ECB)  # expect: Blowfish-ECB
    cp = ChaCha20_Poly1305.new(key=KEY)  # expect: ChaCha20-Poly1305
    sa = Salsa20.new(key=KEY)  # expect: Salsa20
    md4 = MD4.new(data)  # expect: MD4
    s = SHA256.new(data)  # expect: SHA-256
    rmd = RIPEMD160.new(data)  # expect: RIPEMD-160
    hm = HMAC.new(KEY, digestmod=SHA256)  # expect: HMAC-SHA256
    cm = CMAC.new(KEY, ciphermod=AES)  # expect: AES-CMAC
    k1 = PBKDF2(pw, salt, 32, count=100000, hmac_hash_module=SHA256)  # expect: PBKDF2
    k2 = HKDF(KEY, 32, salt, SHA256)  # expect: HKDF-SHA256
    k3 = scrypt(pw, salt, 32, N=2**14, r=8, p=1)  # expect: scrypt
    k4 = bcrypt(pw, 12)  # expect: bcrypt
    r = RSA.generate(2048)  # expect: RSA-2048
    imp = RSA.import_key(data)  # expect: RSA
    e = ECC.generate(curve="P-256")  # expect: ECDSA-P256
    ed = ECC.generate(curve="ed25519")  # expect: Ed25519
    ds = DSA.generate(2048)  # expect: DSA-2048
    eg = ElGamal.generate(1024, None)  # expect: ElGamal
    oaep = PKCS1_OAEP.new(r)  # expect: RSAES-OAEP
    s1 = pkcs1_15.new(r)  # expect: RSA
    s2 = pss.new(r)  # expect: RSASSA-PSS
    s3 = DSS.new(e, "fips-186-3")  # expect: ECDSA
    s4 = eddsa.new(ed, "rfc8032")  # expect: Ed25519
    return gcm, cbc, eax, d3, rc4, bf, cp, sa, md4, s, rmd, hm, cm, k1, k2, k3, k4, imp, ds, eg, oaep, s1, s2, s3, s4


def lookalikes(hash):
    chosen_hash = hash
    hashes = {"a": 1}
    return chosen_hash, hashes.get("a")
