"""C and C++ rules: OpenSSL (EVP, fetch-by-name, the low-level pre-EVP API, context setters, protocol bounds and
cipher lists) and libsodium. Grammars ``tree-sitter-c`` and ``tree-sitter-cpp``.
"""

from __future__ import annotations

import re
from typing import Any

from inventory.rules import regex
from inventory.rules.engine import Hit
from inventory.rules.treesitter import Arg, File, Language, callee_holds

#: OpenSSL protocol-version macros (``SSL_CTX_set_min_proto_version`` and friends).
_C_PROTOCOLS = {"SSL3_VERSION": "sslv3", "TLS1_VERSION": "tlsv1.0", "TLS1_1_VERSION": "tlsv1.1",
                "TLS1_2_VERSION": "tlsv1.2", "TLS1_3_VERSION": "tlsv1.3"}
_C_PREFIX = "EVP_"
_C_DIGESTS = ("MD5", "SHA1", "SHA256", "SHA384", "SHA512", "MD4")
_C_BITS_AT = {"RSA_generate_key_ex": (1, "RSA"), "RSA_generate_key": (0, "RSA"),
              "EVP_PKEY_CTX_set_rsa_keygen_bits": (1, "RSA"), "DH_generate_parameters_ex": (1, "DH"),
              "DSA_generate_parameters_ex": (1, "DSA"), "EVP_RSA_gen": (0, "RSA")}
_C_CURVE_CALLS = ("EC_KEY_new_by_curve_name", "EC_GROUP_new_by_curve_name", "EVP_PKEY_CTX_set_ec_paramgen_curve_nid")
_C_NAME_CALLS = ("EVP_PKEY_CTX_new_from_name", "EVP_PKEY_fromdata_init")
_C_PROTO_CALLS = ("SSL_CTX_set_min_proto_version", "SSL_CTX_set_max_proto_version", "SSL_set_min_proto_version",
                  "SSL_set_max_proto_version")
_C_LIST_CALLS = ("SSL_CTX_set_cipher_list", "SSL_CTX_set_ciphersuites", "SSL_CTX_set1_groups_list")
#: Every callee :func:`_c` reports starts with ``EVP_`` (``EVP_sha256``, ``EVP_PKEY_Q_keygen``…) or is listed here.
#: OpenSSL calls naming an algorithm by a string: callee → index of that argument.
_C_STRING_AT = {"EVP_CIPHER_fetch": 1, "EVP_MD_fetch": 1, "EVP_MAC_fetch": 1, "EVP_KDF_fetch": 1,
                "EVP_SIGNATURE_fetch": 1, "EVP_KEM_fetch": 1, "EVP_KEYMGMT_fetch": 1, "EVP_KEYEXCH_fetch": 1,
                "EVP_get_cipherbyname": 0, "EVP_get_digestbyname": 0, "EVP_PKEY_CTX_new_from_name": 1}
#: OpenSSL calls parameterised by an ``EVP_MD``: callee → (spelling, index of the digest argument).
_C_WITH_MD = {"HMAC": ("HMAC", 0), "HMAC_Init_ex": ("HMAC", 3), "PKCS5_PBKDF2_HMAC": ("PBKDF2", 5),
              "PKCS5_PBKDF2_HMAC_SHA1": ("PBKDF2", None), "EVP_PBE_scrypt": ("scrypt", None),
              "EVP_EC_gen": ("ECDSA", None)}
#: libsodium function prefixes → catalogue spelling (longest prefix wins).
_SODIUM = {"crypto_box": "X25519", "crypto_kx": "X25519", "crypto_scalarmult": "X25519",
           "crypto_scalarmult_ed25519": "Ed25519", "crypto_sign": "Ed25519", "crypto_secretbox": "XSalsa20-Poly1305",
           "crypto_secretbox_xchacha20poly1305": "XChaCha20-Poly1305",
           "crypto_aead_xchacha20poly1305_ietf": "XChaCha20-Poly1305",
           "crypto_aead_chacha20poly1305": "ChaCha20-Poly1305", "crypto_aead_aes256gcm": "AES-256-GCM",
           "crypto_secretstream_xchacha20poly1305": "XChaCha20-Poly1305", "crypto_generichash": "BLAKE2b-{}",
           "crypto_hash_sha256": "SHA-256", "crypto_hash_sha512": "SHA-512", "crypto_hash": "SHA-512",
           "crypto_auth_hmacsha256": "HMAC-SHA256", "crypto_auth_hmacsha512": "HMAC-SHA512",
           "crypto_auth_hmacsha512256": "HMAC-SHA512", "crypto_auth": "HMAC-SHA512",
           "crypto_pwhash_scryptsalsa208sha256": "scrypt", "crypto_pwhash": "Argon2", "crypto_onetimeauth": "Poly1305",
           "crypto_stream_chacha20": "ChaCha20", "crypto_stream_xchacha20": "ChaCha20", "crypto_stream": "Salsa20",
           "crypto_stream_salsa20": "Salsa20", "crypto_shorthash": "SipHash", "crypto_kdf_hkdf_sha256": "HKDF-SHA256",
           "crypto_kdf_hkdf_sha512": "HKDF-SHA512", "crypto_kdf": "BLAKE2b-512"}
_SODIUM_PREFIX = "crypto_"
#: OpenSSL's low-level (pre-EVP) API: callee → (spelling, index of an RSA padding argument or None).
_C_LEGACY: dict[str, tuple[str, int | None]] = {
    "RSA_public_encrypt": ("RSA", 4), "RSA_private_decrypt": ("RSA", 4), "RSA_private_encrypt": ("RSA", 4),
    "RSA_public_decrypt": ("RSA", 4), "RSA_sign": ("RSA", None), "RSA_verify": ("RSA", None),
    "ECDSA_sign": ("ECDSA", None), "ECDSA_verify": ("ECDSA", None), "ECDSA_do_sign": ("ECDSA", None),
    "ECDSA_do_verify": ("ECDSA", None), "ECDH_compute_key": ("ECDH", None), "DH_compute_key": ("DH", None),
    "DSA_sign": ("DSA", None), "DSA_verify": ("DSA", None), "AES_set_encrypt_key": ("AES", None),
    "AES_set_decrypt_key": ("AES", None), "DES_set_key": ("DES", None), "DES_set_key_checked": ("DES", None),
    "DES_ecb_encrypt": ("DES-ECB", None), "DES_ede3_cbc_encrypt": ("3DES-CBC", None), "MD5_Init": ("MD5", None),
    "MD4_Init": ("MD4", None), "SHA1_Init": ("SHA-1", None), "SHA256_Init": ("SHA-256", None),
    "SHA512_Init": ("SHA-512", None), "RC4_set_key": ("RC4", None), "BF_set_key": ("Blowfish", None),
}
_C_CTX_SETTERS = {"EVP_PKEY_CTX_set_rsa_keygen_bits": "bits", "EVP_PKEY_CTX_set_ec_paramgen_curve_nid": "curve",
                  "EVP_PKEY_CTX_set_dh_paramgen_prime_len": "bits", "EVP_PKEY_CTX_set_dsa_paramgen_bits": "bits"}
_C_CALLEES = (*_C_DIGESTS, *_C_BITS_AT, *_C_CURVE_CALLS, *_C_NAME_CALLS, *_C_PROTO_CALLS, *_C_LIST_CALLS,
              *_C_STRING_AT, *_C_WITH_MD, _SODIUM_PREFIX, *_C_LEGACY)


def _sodium(callee: str) -> str | None:
    best = None
    for prefix, raw in _SODIUM.items():
        if (callee == prefix or callee.startswith(prefix + "_")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, raw)
    return best[1] if best else None


def _c_bind(f: File, call: Any, h: Hit) -> None:
    """``EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(…)``: later setters on ``ctx`` refine this hit."""
    parent = call.parent
    if parent is not None and parent.type == "init_declarator":
        d = parent.child_by_field_name("declarator")
        while d is not None and d.type == "pointer_declarator":
            d = d.child_by_field_name("declarator")
        if d is not None and d.type == "identifier":
            f.vars[f.text(d)] = h
    elif parent is not None and parent.type == "assignment_expression":
        left = parent.child_by_field_name("left")
        if left is not None:
            f.vars[f.text(left)] = h


def _c_more(f: File, node: Any, callee: str, args: list[Arg]) -> bool:
    """libsodium, fetch-by-name, digest-parameterised calls and context setters (see the tables above)."""
    from pqc.catalogue import find

    if callee.startswith(_SODIUM_PREFIX):
        raw = _sodium(callee)
        if raw is None:
            return True
        if "{}" in raw:
            out = args[1].value if len(args) > 1 and isinstance(args[1].value, int) else 32
            raw = raw.format(out * 8 if out in (32, 64) else 512)
        f.hit(raw, node, usage="key-exchange" if raw == "X25519" else None)
        return True
    if callee in _C_STRING_AT:
        i = _C_STRING_AT[callee]
        name = args[i].value if len(args) > i else None
        if isinstance(name, str):
            _c_bind(f, node, f.hit(name, node))
        return True
    if callee in _C_WITH_MD:
        raw, at = _C_WITH_MD[callee]
        if callee == "EVP_EC_gen":
            curve = args[0].value if args and isinstance(args[0].value, str) else None
            f.hit(raw, node, curve=curve, resolved=curve is not None)
            return True
        md = args[at] if at is not None and len(args) > at else None
        word = None
        if md is not None and md.node.type == "call_expression":
            fn = md.node.child_by_field_name("function")
            alg = find(f.text(fn)[4:].replace("_", "-")) if fn is not None and f.text(fn).startswith(_C_PREFIX) \
                else None
            if alg is not None:
                f.consumed.add(md.node.id)
                word = alg.name.replace("SHA-", "SHA")
        f.hit(f"{raw}-{word}" if word and raw == "HMAC" else raw, node)
        return True
    if callee in _C_CTX_SETTERS and len(args) >= 2 and args[0].text in f.vars:
        target = f.vars[args[0].text]
        if _C_CTX_SETTERS[callee] == "bits" and isinstance(args[1].value, int):
            target.bits, target.resolved = args[1].value, True
        elif _C_CTX_SETTERS[callee] == "curve":
            target.raw, target.curve = "ECDSA", args[1].text.removeprefix("NID_")
        return True
    return False


def _c(f: File, node: Any, callee: str, args: list[Arg], new: bool) -> None:
    if _c_more(f, node, callee, args):
        return
    if callee.startswith(_C_PREFIX) and not args and callee[4:5].islower():
        from inventory.normalise import known_spelling

        raw = callee[4:].replace("_", "-")
        if known_spelling(raw):
            f.hit(raw, node)
        return
    if callee in _C_LEGACY:
        raw, pad_at = _C_LEGACY[callee]
        if pad_at is not None and len(args) > pad_at and "OAEP" in args[pad_at].text:
            raw = "RSAES-OAEP"
        if raw == "AES" and len(args) > 1 and isinstance(args[1].value, int):
            raw = f"AES-{args[1].value}"
        f.hit(raw, node, usage="key-exchange" if raw in ("ECDH", "DH") else None)
        return
    if callee in _C_DIGESTS and args:
        f.hit(callee, node)
        return
    if callee in _C_BITS_AT:
        i, raw = _C_BITS_AT[callee]
        b = args[i].value if len(args) > i and isinstance(args[i].value, int) else None
        f.hit(raw, node, bits=b, resolved=b is not None)
        return
    if callee in _C_CURVE_CALLS and args:
        nid = args[-1].text
        f.hit("ECDSA", node, curve=nid.removeprefix("NID_"), resolved=True)
        return
    if callee == _C_PREFIX + "PKEY_Q_keygen" and len(args) >= 3 and isinstance(args[2].value, str):
        kind = args[2].value
        extra = args[3].value if len(args) > 3 else None
        if kind.upper() == "RSA":
            f.hit("RSA", node, bits=extra if isinstance(extra, int) else None, resolved=isinstance(extra, int))
        elif kind.upper() == "EC":
            f.hit("ECDSA", node, curve=extra if isinstance(extra, str) else None)
        else:
            f.hit(kind, node)
        return
    if callee in _C_NAME_CALLS and len(args) >= 2 and isinstance(
            args[1].value, str):
        f.hit(args[1].value, node)
        return
    if callee == _C_PREFIX + "PKEY_CTX_new_id" and args:
        _c_bind(f, node, f.hit(args[0].text, node))
        return
    if callee in _C_PROTO_CALLS and len(args) >= 2:
        version = _C_PROTOCOLS.get(args[1].text)
        if version is not None:
            f.hit(args[1].text, node, protocol=version)
        return
    if callee in _C_LIST_CALLS and len(args) >= 2 and isinstance(args[1].value, str):
        usage = "key-exchange" if "groups" in callee else "cipher-suite"
        for tok in re.split(r"[:,]", args[1].value):
            if tok and not tok.startswith(("!", "-", "@")) and tok.upper() not in ("HIGH", "DEFAULT", "ALL"):
                f.hit(tok, node, usage=usage)


#: Words of which every C/C++ finding needs one, verbatim, in its callee.
TRIGGER_WORDS = frozenset({_C_PREFIX, *_C_CALLEES} | regex.TRIGGER_WORDS)
C = Language("c", ("tree_sitter_c", "language"), _c, TRIGGER_WORDS, wants=callee_holds(TRIGGER_WORDS),
             calls_only=True)
CPP = Language("cpp", ("tree_sitter_cpp", "language"), _c, TRIGGER_WORDS, wants=C.wants, calls_only=True)
