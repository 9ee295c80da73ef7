# ruff: noqa
# mypy: ignore-errors
"""Uses of pyca/cryptography (hazmat and Fernet). Never run."""

import os

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import cmac, hashes, hmac, keywrap, poly1305
from cryptography.hazmat.primitives.asymmetric import dh, dsa, ec, ed448, ed25519, padding, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric import mlkem
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFCMAC, KBKDFHMAC, CounterLocation, Mode
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF

KEY_BITS = 3072
CURVE = ec.SECP384R1()


def keys(n, e, d):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)  # expect: RSA-3072
    small = rsa.generate_private_key(65537, 1024)  # expect: RSA-1024
    pub = rsa.RSAPublicNumbers(e, n).public_key()  # expect: RSA
    ec_key = ec.generate_private_key(ec.SECP192R1())  # expect: ECDSA-P192
    ec384 = ec.generate_private_key(CURVE)  # expect: ECDSA-P384
    k1 = ec.generate_private_key(ec.SECP256K1())  # expect: ECDSA-secp256k1
    derived = ec.derive_private_key(12345, ec.SECP256R1())  # expect: ECDSA-P256
    nums = ec.EllipticCurvePublicNumbers(1, 2, ec.SECP521R1())  # expect: ECDSA-P521
    dsa_key = dsa.generate_private_key(key_size=2048)  # expect: DSA-2048
    params = dh.generate_parameters(generator=2, key_size=2048)  # expect: DH-2048
    dhn = dh.DHParameterNumbers(23, 5)  # expect: DH
    x = x25519.X25519PrivateKey.generate()  # expect: X25519
    x4 = x448.X448PrivateKey.generate()  # expect: X448
    ed = ed25519.Ed25519PrivateKey.generate()  # expect: Ed25519
    ed4 = ed448.Ed448PrivateKey.generate()  # expect: Ed448
    edp = ed25519.Ed25519PublicKey.from_public_bytes(b"\x00" * 32)  # expect: Ed25519
    kem = mlkem.MLKEM768PrivateKey.generate()  # expect: ML-KEM-768
    shared = ec_key.exchange(ec.ECDH(), pub)  # expect: ECDH
    return rsa_key, small, ec384, k1, derived, nums, dsa_key, params, dhn, x, x4, ed, ed4, edp, kem, shared


def operations(key, data, signature):
    sig = key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())  # expect: RSASSA-PSS
    ct = key.public_key().encrypt(data, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None))  # expect: RSAES-OAEP
    v15 = padding.PKCS1v15()  # expect: RSA
    ecsig = key.sign(data, ec.ECDSA(hashes.SHA256()))  # expect: ECDSA
    return sig, ct, v15, ecsig


def symmetric(key, iv, nonce, data):
    aes = Cipher(algorithms.AES(b"k" * 32), modes.GCM(iv))  # expect: AES-256-GCM
    aes128 = Cipher(algorithms.AES(os.urandom(16)), modes.CBC(iv))  # expect: AES-128-CBC
    ecb = Cipher(algorithms.TripleDES(key), modes.ECB())  # expect: 3DES-ECB
    cam = Cipher(algorithms.Camellia(key), modes.CBC(iv))  # expect: Camellia-CBC
    cc = Cipher(algorithms.ChaCha20(key, nonce), mode=None)  # expect: ChaCha20
    gcm = AESGCM(key)  # expect: AES-GCM
    gcm256 = AESGCM(AESGCM.generate_key(bit_length=256))  # expect: AES-256-GCM
    siv = AESSIV(key)  # expect: AES-SIV
    cp = ChaCha20Poly1305(ChaCha20Poly1305.generate_key())  # expect: ChaCha20-Poly1305
    fkey = Fernet.generate_key()  # expect: Fernet
    token = Fernet(fkey).encrypt(data)  # expect: Fernet
    wrapped = keywrap.aes_key_wrap(key, data)  # expect: AES-KW
    wrapped2 = keywrap.aes_key_wrap_with_padding(key, data)  # expect: AES-KWP
    return aes, aes128, ecb, cam, cc, gcm, gcm256, siv, cp, token, wrapped, wrapped2


def macs_and_kdfs(key, salt, data):
    h = hmac.HMAC(key, hashes.SHA256())  # expect: HMAC-SHA256
    c = cmac.CMAC(algorithms.AES(key))  # expect: AES-CMAC
    p = poly1305.Poly1305(key)  # expect: Poly1305
    tag = poly1305.Poly1305.generate_tag(key, data)  # expect: Poly1305
    digest = hashes.Hash(hashes.SHA512())  # expect: SHA-512
    md5 = hashes.Hash(hashes.MD5())  # expect: MD5
    s3 = hashes.Hash(hashes.SHA3_256())  # expect: SHA3-256
    pb = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=600000)  # expect: PBKDF2
    hk = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"x")  # expect: HKDF-SHA256
    hke = HKDFExpand(algorithm=hashes.SHA384(), length=32, info=b"x")  # expect: HKDF-SHA384
    sc = Scrypt(salt=salt, length=32, n=2**14, r=8, p=1)  # expect: scrypt
    kb = KBKDFCMAC(algorithm=algorithms.AES, mode=Mode.CounterMode, length=32, rlen=4, llen=4,  # expect: KBKDF
                   location=CounterLocation.BeforeFixed, label=b"l", context=b"c", fixed=None)
    kbh = KBKDFHMAC(hashes.SHA256(), Mode.CounterMode, 32, 4, 4, CounterLocation.BeforeFixed, b"l", b"c", None)  # expect: KBKDF
    ck = ConcatKDFHash(algorithm=hashes.SHA256(), length=32, otherinfo=None)  # expect: ConcatKDF
    x9 = X963KDF(algorithm=hashes.SHA256(), length=32, sharedinfo=None)  # expect: X963KDF
    return h, c, p, tag, digest, md5, s3, pb, hk, hke, sc, kb, kbh, ck, x9


def not_crypto(hash, chosen_hash, alg):
    # hashlib.md5 mentioned in a comment is not a use
    text = "Cipher(algorithms.AES(key), modes.ECB())"
    value = hash(chosen_hash)
    return alg.compute(value), text
