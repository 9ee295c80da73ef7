# ruff: noqa
# mypy: ignore-errors
from cryptography.hazmat.primitives.asymmetric import ec, rsa, padding
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, ChaCha20Poly1305
from Crypto.Cipher import AES, DES, CAST
from Crypto.Hash import SHA1, SHA512
import hashlib, hmac


def f(key, iv, data, priv):
    k = ec.generate_private_key(curve=ec.BrainpoolP256R1())  # expect: ECDSA-brainpoolP256r1
    r = rsa.generate_private_key(public_exponent=3, key_size=512)  # expect: RSA-512
    c = Cipher(algorithms.AES(b"0" * 24), modes.CTR(iv))  # expect: AES-192-CTR
    b = Cipher(algorithms.Blowfish(key), modes.CFB(iv))  # expect: Blowfish-CFB
    ccm = AESCCM(b"1" * 16)  # expect: AES-CCM
    h = hashes.Hash(hashes.SHA224())  # expect: SHA-224
    s = hashes.Hash(hashes.BLAKE2s(32))  # expect: BLAKE2s-256
    d = DES.new(key[:8], DES.MODE_ECB)  # expect: DES-ECB
    ca = CAST.new(key, CAST.MODE_CBC, iv)  # expect: CAST5-CBC
    o = AES.new(key, AES.MODE_OCB)  # expect: AES-OCB
    x = SHA512.new(data)  # expect: SHA-512
    y = hashlib.sha3_256(data)  # expect: SHA3-256
    z = hmac.new(key, data, hashlib.sha1)  # expect: HMAC-SHA1
    sig = priv.sign(data, padding.PKCS1v15(), hashes.SHA256())  # expect: RSA
    return k, r, c, b, ccm, h, s, d, ca, o, x, y, z, sig
