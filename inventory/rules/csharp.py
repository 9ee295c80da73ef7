"""C# rules: .NET ``System.Security.Cryptography`` (``Create`` factories, constructors, static hash and HKDF calls,
padding and ``SslProtocols`` members, ML-KEM/ML-DSA/SLH-DSA) and BouncyCastle.NET (the Java lightweight API in
Pascal case, :mod:`inventory.rules.bouncycastle`). Grammar ``tree-sitter-c-sharp``.
"""

from __future__ import annotations

import re
from typing import Any

from inventory.rules import bouncycastle, regex
from inventory.rules.treesitter import Arg, File, Language, callee_holds

_CS_CREATE = {"RSA", "MD5", "SHA1", "SHA256", "SHA384", "SHA512", "Aes", "DES", "TripleDES", "RC2", "ECDsa",
              "ECDiffieHellman", "DSA", "HMACSHA1", "HMACSHA256", "HMACMD5", "SHA3_256"}
_CS_NEW = {"RSACryptoServiceProvider": "RSA", "DSACryptoServiceProvider": "DSA", "MD5CryptoServiceProvider": "MD5",
           "SHA1Managed": "SHA1", "SHA1CryptoServiceProvider": "SHA1", "SHA256Managed": "SHA256",
           "HMACSHA1": "HMAC-SHA1", "HMACSHA256": "HMAC-SHA256", "HMACMD5": "HMAC-MD5", "HMACSHA512": "HMAC-SHA512",
           "AesGcm": "AES-GCM", "AesCcm": "AES-CCM", "ChaCha20Poly1305": "ChaCha20-Poly1305",
           "TripleDESCryptoServiceProvider": "3DES", "DESCryptoServiceProvider": "DES",
           "RijndaelManaged": "AES", "AesManaged": "AES", "Rfc2898DeriveBytes": "PBKDF2",
           "ECDsaCng": "ECDSA", "RSACng": "RSA"}


_CS_ML = ("MLKem", "MLDsa", "SlhDsa")


#: .NET member constants: padding choices and ``SslProtocols`` members.
_CS_MEMBERS = {"RSAEncryptionPadding.OaepSHA1": "RSAES-OAEP", "RSAEncryptionPadding.OaepSHA256": "RSAES-OAEP",
               "RSAEncryptionPadding.OaepSHA384": "RSAES-OAEP", "RSAEncryptionPadding.OaepSHA512": "RSAES-OAEP",
               "RSAEncryptionPadding.Pkcs1": "RSA", "RSASignaturePadding.Pss": "RSASSA-PSS",
               "RSASignaturePadding.Pkcs1": "RSA"}
_CS_PROTOCOLS = {"SslProtocols.Ssl2": "sslv2", "SslProtocols.Ssl3": "sslv3", "SslProtocols.Tls": "tlsv1.0",
                 "SslProtocols.Tls11": "tlsv1.1", "SslProtocols.Tls12": "tlsv1.2", "SslProtocols.Tls13": "tlsv1.3"}
_CS_HASH_STATIC = ("HashData", "TryHashData", "HashDataAsync")
_CS_HKDF = ("DeriveKey", "Extract", "Expand")


def _cs_member(f: File, node: Any) -> None:
    text = re.sub(r"\s+", "", f.text(node))
    key = ".".join(text.rsplit(".", 2)[-2:])
    if key in _CS_PROTOCOLS:
        f.hit(key, node, protocol=_CS_PROTOCOLS[key])
    elif key in _CS_MEMBERS:
        f.hit(_CS_MEMBERS[key], node)


def _csharp(f: File, node: Any, callee: str, args: list[Arg], new: bool) -> None:
    last = callee.rsplit(".", 1)[-1]
    if new and bouncycastle.report(f, node):  # BouncyCastle.NET: the Java API in Pascal case
        return
    parts0 = callee.split(".")
    if not new and last in _CS_HASH_STATIC and len(parts0) >= 2 and parts0[-2] in _CS_CREATE:
        f.hit(parts0[-2].replace("_", "-"), node)
        return
    if not new and last in _CS_HKDF and len(parts0) >= 2 and parts0[-2] == "HKDF":
        h = args[0].text.rsplit(".", 1)[-1] if args else ""
        f.hit(f"HKDF-{h}" if h.startswith("SHA") else "HKDF", node)
        return
    if new:
        raw = _CS_NEW.get(last)
        if raw:
            b = args[0].value if raw in ("RSA", "DSA") and args and isinstance(args[0].value, int) else None
            f.hit(raw, node, bits=b, resolved=b is not None or raw not in ("RSA", "DSA"))
        return
    parts = callee.split(".")
    if last == "Create" and len(parts) >= 2 and parts[-2] in _CS_CREATE:
        cls = parts[-2]
        if cls in ("ECDsa", "ECDiffieHellman") and args:
            curve = args[0].text.rsplit(".", 1)[-1]
            f.hit("ECDSA" if cls == "ECDsa" else "ECDH", node, curve=curve,
                  usage="key-exchange" if cls == "ECDiffieHellman" else None)
        elif cls in ("RSA", "DSA"):
            b = args[0].value if args and isinstance(args[0].value, int) else None
            f.hit(cls, node, bits=b, resolved=b is not None)
        else:
            f.hit(cls.replace("_", "-"), node)
        return
    if last in ("GenerateKey", "ImportFromPem") and len(parts) >= 2 and parts[-2] in _CS_ML and args:
        f.hit(args[0].text.rsplit(".", 1)[-1], node)


#: Words of which every C# finding needs one, verbatim.
TRIGGER_WORDS = frozenset({*_CS_CREATE, *_CS_NEW, *_CS_ML, *_CS_PROTOCOLS, *_CS_MEMBERS, "HKDF",
                           *bouncycastle.trigger_words()} | regex.TRIGGER_WORDS)
CSHARP = Language("csharp", ("tree_sitter_c_sharp", "language"), _csharp, TRIGGER_WORDS,
                  wants=callee_holds(TRIGGER_WORDS), members={"member_access_expression": _cs_member})
