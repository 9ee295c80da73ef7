"""JavaScript and TypeScript rules: Node's ``crypto`` module, WebCrypto ``subtle``, node-forge, jose and
jsonwebtoken. Grammars ``tree-sitter-javascript`` and ``tree-sitter-typescript`` (TypeScript and TSX).
"""

from __future__ import annotations

import re
from typing import Any

from inventory.rules import regex
from inventory.rules.treesitter import Arg, File, Language, callee_holds

_NODE_STRING_ARG0 = {"createHash": None, "createCipheriv": None, "createDecipheriv": None, "createSign": "signature",
                     "createVerify": "signature", "createECDH": "key-exchange"}
_SUBTLE = {"digest", "generateKey", "importKey", "encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits",
           "wrapKey", "unwrapKey", "encapsulateKey", "encapsulateBits", "decapsulateKey", "decapsulateBits"}


_JS_HMAC = "createHmac"
_JS_KEYPAIR = ("generateKeyPairSync", "generateKeyPair")
_JS_PBKDF2 = ("pbkdf2Sync", "pbkdf2")
_JS_DH = "createDiffieHellman"
_JS_SUBTLE = "subtle"
_JS_JWT_CALLS = ("jwt.sign", "jwt.verify", "jsonwebtoken.sign", "jsonwebtoken.verify")


#: node-forge: ``forge.md.<name>.create()`` digests.
_FORGE_MD = re.compile(r"(?:^|\.)md\.(md5|sha1|sha256|sha384|sha512|sha512\.sha384|sha512\.sha256)\.create$")
_FORGE = {"rsa.generateKeyPair": "RSA", "ed25519.generateKeyPair": "Ed25519", "hmac.create": "HMAC",
          "pkcs5.pbkdf2": "PBKDF2", "rc2.createEncryptionCipher": "RC2", "rc2.createDecryptionCipher": "RC2",
          "rsa.setPublicKey": "RSA", "rsa.setPrivateKey": "RSA"}
_FORGE_CIPHER = ("cipher.createCipher", "cipher.createDecipher")
#: Node ``crypto`` calls beyond the string-first ones.
_NODE_MORE = {"scrypt": "scrypt", "scryptSync": "scrypt", "hkdf": "HKDF", "hkdfSync": "HKDF",
              "publicEncrypt": "RSA", "privateDecrypt": "RSA", "privateEncrypt": "RSA", "publicDecrypt": "RSA",
              "generateKey": None, "generateKeySync": None}
#: jose: calls whose argument at this index is a JOSE algorithm name.
_JOSE_ALG_AT = {"generateKeyPair": 0, "generateSecret": 0, "importJWK": 1, "importPKCS8": 1, "importSPKI": 1,
                "importX509": 1}
_JOSE_HEADER = ("setProtectedHeader",)


def _js_more(f: File, node: Any, callee: str, args: list[Arg]) -> bool:
    last = callee.rsplit(".", 1)[-1]
    m = _FORGE_MD.search(callee)
    if m:
        f.hit({"sha512.sha384": "SHA-384", "sha512.sha256": "SHA-512/256"}.get(m.group(1), m.group(1)), node)
        return True
    tail = ".".join(callee.rsplit(".", 2)[-2:])
    if tail in _FORGE and ("forge" in callee or "pki" in callee or tail.split(".")[0] in callee.split(".")[:1]):
        raw = _FORGE[tail]
        bits = None
        if raw == "RSA" and args:
            b = args[0].pairs.get("bits") if args[0].pairs else args[0]
            bits = b.value if b is not None and isinstance(b.value, int) else None
        f.hit(raw, node, bits=bits, resolved=raw != "RSA" or bits is not None or "set" in tail)
        return True
    if tail in _FORGE_CIPHER and args and isinstance(args[0].value, str):
        f.hit(args[0].value, node)
        return True
    if last in _NODE_MORE and (callee.startswith(("crypto.", "require(")) or callee == last) and args:
        spelling = _NODE_MORE[last]
        if spelling == "HKDF":
            h = args[0].value if isinstance(args[0].value, str) else None
            f.hit(f"HKDF-{h.upper().replace('-', '')}" if h else "HKDF", node)
        elif spelling == "RSA":
            pad = args[0].pairs.get("padding") if args[0].pairs else None
            oaep = pad is None or "OAEP" in pad.text  # Node's default padding is OAEP
            f.hit("RSAES-OAEP" if oaep and last in ("publicEncrypt", "privateDecrypt") else "RSA", node)
        elif spelling is None:
            kind = args[0].value if isinstance(args[0].value, str) else None
            length = args[1].pairs.get("length") if len(args) > 1 and args[1].pairs else None
            bits = length.value if length is not None and isinstance(length.value, int) else None
            if kind == "aes":
                f.hit(f"AES-{bits}" if bits else "AES", node)
            elif kind == "hmac":
                f.hit("HMAC", node)
            else:
                return False
        else:
            f.hit(spelling, node)
        return True
    if last in _JOSE_ALG_AT and "jose" in callee:
        i = _JOSE_ALG_AT[last]
        alg = args[i].value if len(args) > i else None
        if isinstance(alg, str):
            f.hit(alg, node, usage="signature")
        return True
    if last in _JOSE_HEADER and args and "alg" in args[0].pairs and isinstance(args[0].pairs["alg"].value, str):
        f.hit(args[0].pairs["alg"].value, node, usage="signature")
        return True
    return False


def _js(f: File, node: Any, callee: str, args: list[Arg], new: bool) -> None:
    last = callee.rsplit(".", 1)[-1]
    if _js_more(f, node, callee, args):
        return
    if last in _NODE_STRING_ARG0 and args and isinstance(args[0].value, str):
        raw = args[0].value
        if last == "createECDH":
            f.hit("ECDH", node, curve=raw, usage="key-exchange")
        else:
            f.hit(raw, node, usage=_NODE_STRING_ARG0[last])
        return
    if last == _JS_HMAC and args and isinstance(args[0].value, str):
        f.hit(f"hmac_{args[0].value.lower().replace('-', '')}", node)
        return
    if last in _JS_KEYPAIR and args and isinstance(args[0].value, str):
        kind = args[0].value.lower()
        opts = args[1].pairs if len(args) > 1 else {}
        if kind in ("rsa", "rsa-pss", "dsa", "dh"):
            bits = opts.get("modulusLength")
            b = bits.value if bits is not None and isinstance(bits.value, int) else None
            f.hit({"rsa": "RSA", "rsa-pss": "RSASSA-PSS", "dsa": "DSA", "dh": "DH"}[kind], node, bits=b,
                  resolved=b is not None)
        elif kind == "ec":
            c = opts.get("namedCurve")
            f.hit("ECDSA", node, curve=c.value if c is not None and isinstance(c.value, str) else None)
        else:
            f.hit(args[0].value, node)
        return
    if last in _JS_PBKDF2:
        f.hit("PBKDF2", node)
        return
    if last == _JS_DH and args:
        b = args[0].value if isinstance(args[0].value, int) else None
        f.hit("DH", node, bits=b, resolved=b is not None)
        return
    if _JS_SUBTLE in callee and last in _SUBTLE and args:
        a = args[0]
        name_arg = a.pairs.get("name")
        name = name_arg.value if name_arg is not None else a.value
        if isinstance(name, str):
            bits = a.pairs.get("modulusLength") or a.pairs.get("length")
            curve = a.pairs.get("namedCurve")
            b = bits.value if bits is not None and isinstance(bits.value, int) else None
            curve_name = curve.value if curve is not None and isinstance(curve.value, str) else None
            raw = {"ECDSA": "ECDSA", "ECDH": "ECDH", "RSASSA-PKCS1-v1_5": "RSA", "RSA-PSS": "RSASSA-PSS",
                   "AES-GCM": "AES-GCM", "AES-CBC": "AES-CBC", "AES-CTR": "AES-CTR", "AES-KW": "AES-KW",
                   "HMAC": "HMAC"}.get(name, name)
            if raw.startswith("AES-") and b:
                raw = f"AES-{b}-{raw[4:]}"
                b = None
            hash_arg = a.pairs.get("hash")
            hname = hash_arg.pairs.get("name") if hash_arg is not None and hash_arg.pairs else hash_arg
            if raw == "HMAC" and hname is not None and isinstance(hname.value, str):
                raw, b = f"HMAC-{hname.value.replace('-', '')}", None
            f.hit(raw, node, bits=b, curve=curve_name, usage="key-exchange" if name == "ECDH" else None)
        return
    if callee in _JS_JWT_CALLS and len(args) >= 3:
        opts = args[2].pairs
        if "algorithm" in opts and isinstance(opts["algorithm"].value, str):
            f.hit(opts["algorithm"].value, node, usage="signature")
        elif "algorithms" in opts:
            for el in opts["algorithms"].node.named_children:
                v = f.literal(el)
                if isinstance(v, str):
                    f.hit(v, el, usage="signature")
        return


#: Words of which every JavaScript/TypeScript finding needs one, verbatim, in its callee.
TRIGGER_WORDS = frozenset({*_NODE_STRING_ARG0, _JS_HMAC, *_JS_KEYPAIR, *_JS_PBKDF2, _JS_DH, _JS_SUBTLE, *_NODE_MORE,
                           *_JOSE_ALG_AT, *_JOSE_HEADER, *_FORGE, *_FORGE_CIPHER, "md.md5", "md.sha1", "md.sha256",
                           "md.sha384", "md.sha512", *(c.split(".")[0] for c in _JS_JWT_CALLS)} | regex.TRIGGER_WORDS)
JAVASCRIPT = Language("javascript", ("tree_sitter_javascript", "language"), _js, TRIGGER_WORDS,
                      wants=callee_holds(TRIGGER_WORDS), calls_only=True)
TYPESCRIPT = Language("typescript", ("tree_sitter_typescript", "language_typescript"), _js, TRIGGER_WORDS,
                      wants=JAVASCRIPT.wants, calls_only=True)
TSX = Language("tsx", ("tree_sitter_typescript", "language_tsx"), _js, TRIGGER_WORDS, wants=JAVASCRIPT.wants,
               calls_only=True)
