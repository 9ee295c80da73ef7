"""Python rules: calls into ``cryptography``, PyCryptodome(x), ``ssl``, ``hashlib``, ``hmac``, paramiko, PyJWT /
python-jose, ``rsa``, ``ecdsa`` and PyNaCl, as tables keyed by the callee's qualified name.

The matcher (:mod:`inventory.rules.pyast`) resolves every call's callee through the file's imports and, in
:data:`PREFIXES`' short form (``asym.rsa.generate_private_key``), asks :func:`lookup` for its handler: one of
:data:`EXACT`, a PyCryptodome name of ``_PCD_EXACT``, or a family matched by pattern (heads in
:data:`LOOKUP_HEADS`). Handlers read key sizes, curves, modes and hash arguments when they are literals or
module-level constants of the same file and record a hit (:meth:`inventory.rules.pyast.Visitor.hit`).
:func:`method_call` and :func:`assignment` match methods and TLS version bounds on objects of unknown type.
The prefilter's words are derived from these tables (:data:`NAMES`, :mod:`inventory.rules.derive`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from inventory.rules import derive

if TYPE_CHECKING:
    from inventory.rules.pyast import Visitor

#: The findings' ``source``.
SOURCE = "python"
#: (long prefix as written, short head): qualified names are rewritten to the short form the tables use.
PREFIXES = (
    ("cryptography.hazmat.primitives.asymmetric.", "asym."),
    ("cryptography.hazmat.primitives.ciphers.algorithms.", "alg."),
    ("cryptography.hazmat.primitives.ciphers.modes.", "mode."),
    ("cryptography.hazmat.primitives.ciphers.aead.", "aead."),
    ("cryptography.hazmat.primitives.ciphers.", "ciphers."),
    ("cryptography.hazmat.primitives.hashes.", "hash."),
    ("cryptography.hazmat.primitives.hmac.", "hmacmod."),
    ("cryptography.hazmat.primitives.kdf.", "kdf."),
    ("Cryptodome.", "pcd."),
    ("Crypto.", "pcd."),
    ("jose.jwt.", "jwt."),
)
#: Heads of the short names above (``jwt`` excluded: it is also PyJWT's real module name).
SHORT_HEADS = frozenset(short.split(".")[0] for _, short in PREFIXES) - {"jwt"}
_PCD_MODES = {"MODE_ECB": "ECB", "MODE_CBC": "CBC", "MODE_CFB": "CFB", "MODE_OFB": "OFB", "MODE_CTR": "CTR",
              "MODE_GCM": "GCM", "MODE_CCM": "CCM", "MODE_EAX": "EAX", "MODE_SIV": "SIV", "MODE_OCB": "OCB"}
_PCD_CIPHERS = {"AES": "AES", "DES3": "3DES", "DES": "DES", "ARC4": "RC4", "Blowfish": "Blowfish",
                "ChaCha20": "ChaCha20", "ChaCha20_Poly1305": "ChaCha20-Poly1305", "ARC2": "RC2", "CAST": "CAST5",
                "Salsa20": "Salsa20"}
_AEAD = {"AESGCM": "AES-GCM", "AESCCM": "AES-CCM", "AESOCB3": "AES-OCB", "AESSIV": "AES-SIV",
         "AESGCMSIV": "AES-GCM-SIV", "ChaCha20Poly1305": "ChaCha20-Poly1305"}
_HASHLIB = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384", "sha3_512",
            "shake_128", "shake_256", "blake2b", "blake2s", "sha512_224", "sha512_256"}

# --- handlers ------------------------------------------------------------------------------------
#: A rule: (matcher state, qualified callee, the call) → records its hits on the visitor.
Handler: TypeAlias = "Callable[[Visitor, str, ast.Call], None]"


def _sized(raw: str, index: int, keyword: str) -> Handler:
    def h(v: Visitor, q: str, node: ast.Call) -> None:
        bits = v.value(v.arg(node, index, keyword))
        v.hit(raw, node, bits=bits if isinstance(bits, int) else None, resolved=isinstance(bits, int))
    return h


def _fixed(raw: str, usage: str | None = None) -> Handler:
    def h(v: Visitor, q: str, node: ast.Call) -> None:
        v.hit(raw, node, usage=usage)
    return h


def _curve_name(v: Visitor, node: ast.AST | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Call):
        q = v.qualname(node.func)
        v.consumed.add(id(node))
        return q.rsplit(".", 1)[-1] if q else None
    if isinstance(node, ast.Name) and node.id in v.assigned:
        return v.assigned[node.id].rsplit(".", 1)[-1]
    if isinstance(node, ast.Attribute | ast.Name):
        q = v.qualname(node)
        return q.rsplit(".", 1)[-1] if q else None
    val = v.value(node)
    return val if isinstance(val, str) else None


def _ec_generate(v: Visitor, q: str, node: ast.Call) -> None:
    curve = _curve_name(v, v.arg(node, 0, "curve"))
    v.hit("ECDSA", node, curve=curve, resolved=curve is not None)


def _hash_name(v: Visitor, node: ast.AST | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Call):
        v.consumed.add(id(node))
        node = node.func
    if isinstance(node, ast.Attribute | ast.Name):
        return _imported_name(v, node)
    val = v.value(node)
    return val if isinstance(val, str) else None


def _imported_name(v: Visitor, node: ast.Attribute | ast.Name) -> str | None:
    """The last component of a name that the file imports (``hashes.SHA256``, ``sha256`` from ``from hashlib
    import sha256``) or binds to a string constant; ``None`` for a local or attribute such as ``algorithm`` or
    ``self._algorithm`` (a variable is no algorithm name)."""
    head: ast.AST = node
    while isinstance(head, ast.Attribute):
        head = head.value
    if not isinstance(head, ast.Name):
        return None
    if head.id not in v.aliases and head.id not in CRYPTO_MODULES:
        val = v.consts.get(head.id) if isinstance(node, ast.Name) else None
        return val if isinstance(val, str) else None
    q = v.qualname(node)
    return q.rsplit(".", 1)[-1] if q else None


def _cipher(v: Visitor, q: str, node: ast.Call) -> None:
    alg_node, mode_node = v.arg(node, 0, "algorithm"), v.arg(node, 1, "mode")
    alg = _hash_name(v, alg_node)
    mode = _hash_name(v, mode_node)
    if alg is None:
        return  # Cipher(algo(key), mode(iv)) over variables: generic code, no algorithm to name
    key_bits = None
    if isinstance(alg_node, ast.Call) and alg_node.args:
        key = v.value(alg_node.args[0])
        if isinstance(key, bytes | str):
            key_bits = len(key) * 8
    raw = {"TripleDES": "3DES", "ARC4": "RC4"}.get(alg, alg)
    if mode:
        raw = f"{raw}-{key_bits}-{mode}" if key_bits and raw == "AES" else f"{raw}-{mode}"
    v.hit(raw, node, mode=mode, bits=key_bits)


def _hashes(v: Visitor, q: str, node: ast.Call) -> None:
    name = q.split(".", 1)[1]
    if "." in name:  # hashes.HashContext.register(…) and the like: no hash
        return
    if name in ("Hash", "HashAlgorithm", "HashContext", "ExtendableOutputFunction"):
        if name == "Hash":
            h = _hash_name(v, v.arg(node, 0, "algorithm"))
            if h:
                v.hit(h, node)
        return
    v.hit(name, node)


def _algorithms(v: Visitor, q: str, node: ast.Call) -> None:
    v.hit(q.split(".", 1)[1], node)


def _asym_class(v: Visitor, q: str, node: ast.Call) -> None:
    m = re.match(r"asym\.\w+\.(\w+?)(?:Private|Public)(?:Key)?\.(generate|from_seed_bytes|from_private_bytes|"
                 r"from_public_bytes)$", q)
    if m:
        v.hit(m.group(1), node)


def _padding(v: Visitor, q: str, node: ast.Call) -> None:
    name = q.rsplit(".", 1)[-1]
    raw = {"OAEP": "RSAES-OAEP", "PSS": "RSASSA-PSS", "PKCS1v15": "RSA"}.get(name)
    if raw:
        v.hit(raw, node)
        for a in node.args + [k.value for k in node.keywords]:
            if isinstance(a, ast.Call):
                v.consumed.add(id(a))
                for inner in a.args:
                    if isinstance(inner, ast.Call):
                        v.consumed.add(id(inner))


def _crypto_hmac(v: Visitor, q: str, node: ast.Call) -> None:
    h = _hash_name(v, v.arg(node, 1, "algorithm"))
    v.hit(f"hmac_{h.lower()}" if h else "HMAC", node, resolved=h is not None)


def _pcd_new(v: Visitor, q: str, node: ast.Call) -> None:
    parts = q.split(".")
    mod = parts[-2]
    if parts[1] == "Cipher":
        if mod in ("PKCS1_OAEP",):
            v.hit("RSAES-OAEP", node)
            return
        if mod == "PKCS1_v1_5":
            v.hit("RSA", node)
            return
        base = _PCD_CIPHERS.get(mod, mod)
        mode_node = v.arg(node, 1, "mode")
        mode = None
        if isinstance(mode_node, ast.Attribute):
            mode = _PCD_MODES.get(mode_node.attr)
        key = v.value(v.arg(node, 0, "key"))
        bits = len(key) * 8 if isinstance(key, bytes | str) and base == "AES" else None
        raw = base + (f"-{bits}" if bits else "") + (f"-{mode}" if mode else "")
        v.hit(raw, node, mode=mode, bits=bits)
    elif parts[1] == "Hash":
        v.hit({"SHA": "SHA1"}.get(mod, mod), node)
    elif parts[1] == "Signature":
        v.hit({"pss": "RSASSA-PSS", "pkcs1_15": "RSA", "DSS": "DSA", "eddsa": "Ed25519"}.get(mod, mod), node,
              usage="signature")


def _pcd_generate(v: Visitor, q: str, node: ast.Call) -> None:
    mod = q.split(".")[-2]
    if mod == "ECC":
        curve = v.value(v.arg(node, 99, "curve"))
        v.hit("ECDSA", node, curve=curve if isinstance(curve, str) else None, resolved=isinstance(curve, str))
    else:
        bits = v.value(v.arg(node, 0, "bits"))
        v.hit(mod, node, bits=bits if isinstance(bits, int) else None, resolved=isinstance(bits, int))


def _hashlib(v: Visitor, q: str, node: ast.Call) -> None:
    name = q.split(".", 1)[1]
    if name == "new":
        h = v.value(v.arg(node, 0, "name"))
        if isinstance(h, str):
            v.hit(h, node)
        return
    if name == "pbkdf2_hmac":
        v.hit("PBKDF2", node)
        return
    if name in _HASHLIB:
        v.hit(name, node)


def _hmac(v: Visitor, q: str, node: ast.Call) -> None:
    dm = v.arg(node, 2, "digestmod")
    if q == "hmac.digest":
        dm = v.arg(node, 2, "digest")
    h = None
    if isinstance(dm, ast.Attribute | ast.Name):
        h = _imported_name(v, dm)
    else:
        val = v.value(dm)
        h = val if isinstance(val, str) else None
    v.hit(f"hmac_{h.lower()}" if h else "HMAC", node, resolved=h is not None)


def _jwt(v: Visitor, q: str, node: ast.Call) -> None:
    if q.endswith(".encode"):
        alg = v.value(v.arg(node, 2, "algorithm"))
        v.hit(alg if isinstance(alg, str) else "HS256", node, usage="signature")
    else:
        algs = v.arg(node, 99, "algorithms")
        if isinstance(algs, ast.List | ast.Tuple):
            for elt in algs.elts:
                val = v.value(elt)
                if isinstance(val, str):
                    v.hit(val, elt, usage="signature")


def _paramiko(v: Visitor, q: str, node: ast.Call) -> None:
    cls = q.split(".")[-2]
    if cls == "RSAKey":
        _sized("RSA", 0, "bits")(v, q, node)
    elif cls == "DSSKey":
        _sized("DSA", 0, "bits")(v, q, node)
    elif cls == "ECDSAKey":
        bits = v.value(v.arg(node, 99, "bits"))
        v.hit("ECDSA", node, curve={256: "P-256", 384: "P-384", 521: "P-521"}.get(bits if isinstance(bits, int)
                                                                                  else 256))


def _ecdsa_pkg(v: Visitor, q: str, node: ast.Call) -> None:
    curve = _curve_name(v, v.arg(node, 99, "curve")) or "NIST192p"
    v.hit("ECDSA", node, curve=curve)


#: ``ssl.PROTOCOL_*`` constants that pin one version (``PROTOCOL_TLS*`` negotiate and are not listed).
SSL_PROTOCOLS = {"PROTOCOL_SSLv2": "sslv2", "PROTOCOL_SSLv3": "sslv3", "PROTOCOL_TLSv1": "tlsv1.0",
                  "PROTOCOL_TLSv1_1": "tlsv1.1", "PROTOCOL_TLSv1_2": "tlsv1.2"}


def _ssl_version(v: Visitor, node: ast.Call, arg: ast.AST | None) -> None:
    if isinstance(arg, ast.Attribute | ast.Name):
        q = v.qualname(arg)
        name = q.rsplit(".", 1)[-1] if q else None
        if name in SSL_PROTOCOLS:
            v.hit(name, node, protocol=SSL_PROTOCOLS[name])


RANDOM_BYTES = frozenset({"os.urandom", "secrets.token_bytes", "pcd.Random.get_random_bytes"})


def _consume_args(v: Visitor, node: ast.Call) -> None:
    """Calls in the arguments (``hashes.SHA256()``, ``algorithms.AES(k)``) are part of this primitive."""
    for a in [*node.args, *(k.value for k in node.keywords)]:
        for sub in ast.walk(a):
            if isinstance(sub, ast.Call):
                v.consumed.add(id(sub))


def _with_hash(raw: str, index: int, keyword: str, sep: str = "-") -> Handler:
    """A construction parameterised by a hash (``HKDF(algorithm=hashes.SHA256())`` → HKDF-SHA256)."""
    def h(v: Visitor, q: str, node: ast.Call) -> None:
        name = _hash_name(v, v.arg(node, index, keyword))
        _consume_args(v, node)
        word = name.upper().replace("_", "-").replace("SHA-", "SHA") if name else None  # SHA256, SHA3-256
        v.hit(f"{raw}{sep}{word}" if word else raw, node, resolved=word is not None)
    return h


def _whole(raw: str, usage: str | None = None) -> Handler:
    """One primitive whatever the arguments; calls inside them are part of it."""
    def h(v: Visitor, q: str, node: ast.Call) -> None:
        _consume_args(v, node)
        v.hit(raw, node, usage=usage)
    return h


def _ec_numbers(index: int, keyword: str) -> Handler:
    def h(v: Visitor, q: str, node: ast.Call) -> None:
        curve = _curve_name(v, v.arg(node, index, keyword))
        v.hit("ECDSA", node, curve=curve, resolved=curve is not None)
    return h


def _last_name(v: Visitor, node: ast.AST | None) -> str | None:
    q = v.qualname(node) if isinstance(node, ast.Attribute | ast.Name) else None
    return q.rsplit(".", 1)[-1] if q else None


def _pcd_hmac(v: Visitor, q: str, node: ast.Call) -> None:
    mod = v.arg(node, 2, "digestmod")
    name = _last_name(v, mod)
    v.hit(f"hmac_{name.lower()}" if name else "HMAC-SHA256" if mod is None else "HMAC", node)


def _pcd_cmac(v: Visitor, q: str, node: ast.Call) -> None:
    mod = v.arg(node, 2, "ciphermod")
    name = _last_name(v, mod)
    v.hit(f"{_PCD_CIPHERS.get(name, name)}-CMAC" if name else "AES-CMAC", node)


def _pcd_dss(v: Visitor, q: str, node: ast.Call) -> None:
    key = v.arg(node, 0, "key")
    made = v.assigned.get(key.id, "") if isinstance(key, ast.Name) else ""
    v.hit("ECDSA" if ".ECC." in made else "DSA", node, usage="signature")


EXACT: dict[str, Handler] = {
    "asym.rsa.generate_private_key": _sized("RSA", 1, "key_size"),
    "asym.dsa.generate_private_key": _sized("DSA", 0, "key_size"),
    "asym.dh.generate_parameters": _sized("DH", 1, "key_size"),
    "asym.ec.generate_private_key": _ec_generate,
    "asym.ec.ECDH": _fixed("ECDH", "key-exchange"),
    "asym.ec.ECDSA": _whole("ECDSA", "signature"),
    "asym.ec.derive_private_key": _ec_numbers(1, "curve"),
    "asym.ec.EllipticCurvePublicNumbers": _ec_numbers(2, "curve"),
    "asym.ec.EllipticCurvePublicKey.from_encoded_point": _ec_numbers(0, "curve"),
    "asym.rsa.RSAPublicNumbers": _fixed("RSA"),
    "asym.rsa.RSAPrivateNumbers": _fixed("RSA"),
    "asym.dsa.DSAParameterNumbers": _fixed("DSA"),
    "asym.dsa.DSAPublicNumbers": _fixed("DSA"),
    "asym.dh.DHParameterNumbers": _fixed("DH"),
    "asym.dh.DHPublicNumbers": _fixed("DH"),
    "kdf.hkdf.HKDF": _with_hash("HKDF", 0, "algorithm"),
    "kdf.hkdf.HKDFExpand": _with_hash("HKDF", 0, "algorithm"),
    "kdf.pbkdf2.PBKDF2HMAC": _whole("PBKDF2"),
    "kdf.scrypt.Scrypt": _fixed("scrypt"),
    "kdf.kbkdf.KBKDFHMAC": _whole("KBKDF"),
    "kdf.kbkdf.KBKDFCMAC": _whole("KBKDF"),
    "kdf.concatkdf.ConcatKDFHash": _whole("ConcatKDF"),
    "kdf.concatkdf.ConcatKDFHMAC": _whole("ConcatKDF"),
    "kdf.x963kdf.X963KDF": _whole("X963KDF"),
    "kdf.argon2.Argon2id": _fixed("Argon2"),
    "cryptography.fernet.Fernet": _fixed("Fernet"),
    "cryptography.fernet.Fernet.generate_key": _fixed("Fernet"),
    "cryptography.fernet.MultiFernet": _fixed("Fernet"),
    "cryptography.hazmat.primitives.keywrap.aes_key_wrap": _fixed("AES-KW"),
    "cryptography.hazmat.primitives.keywrap.aes_key_unwrap": _fixed("AES-KW"),
    "cryptography.hazmat.primitives.keywrap.aes_key_wrap_with_padding": _fixed("AES-KWP"),
    "cryptography.hazmat.primitives.keywrap.aes_key_unwrap_with_padding": _fixed("AES-KWP"),
    "cryptography.hazmat.primitives.cmac.CMAC": _whole("AES-CMAC"),
    "cryptography.hazmat.primitives.poly1305.Poly1305": _fixed("Poly1305"),
    "cryptography.hazmat.primitives.poly1305.Poly1305.generate_tag": _fixed("Poly1305"),
    "cryptography.hazmat.primitives.poly1305.Poly1305.verify_tag": _fixed("Poly1305"),
    "hashlib.scrypt": _fixed("scrypt"),
    "nacl.public.PrivateKey.generate": _fixed("X25519", "key-exchange"),
    "nacl.public.Box": _fixed("X25519", "key-exchange"),
    "nacl.signing.SigningKey.generate": _fixed("Ed25519"),
    "nacl.secret.SecretBox": _fixed("XSalsa20-Poly1305"),
    "nacl.pwhash.argon2id.kdf": _fixed("Argon2"),
    "ciphers.Cipher": _cipher,
    "hmacmod.HMAC": _crypto_hmac,
    "hmac.new": _hmac,
    "hmac.digest": _hmac,
    "jwt.encode": _jwt,
    "jwt.decode": _jwt,
    "rsa.newkeys": _sized("RSA", 0, "nbits"),
    "ecdsa.SigningKey.generate": _ecdsa_pkg,
    "paramiko.RSAKey.generate": _paramiko,
    "paramiko.DSSKey.generate": _paramiko,
    "paramiko.ECDSAKey.generate": _paramiko,
    "paramiko.Ed25519Key": _fixed("Ed25519"),
    "paramiko.rsakey.RSAKey.generate": _paramiko,
    "ssl.SSLContext": lambda v, q, node: _ssl_version(v, node, v.arg(node, 0, "protocol")),
    "ssl.wrap_socket": lambda v, q, node: _ssl_version(v, node, v.arg(node, 99, "ssl_version")),
}


#: PyCryptodome names (``pcd.`` stands for ``Crypto.`` or ``Cryptodome.``): reached through :func:`lookup`.
_PCD_EXACT: dict[str, Handler] = {
    "pcd.Protocol.KDF.PBKDF2": _fixed("PBKDF2"),
    "pcd.Protocol.KDF.HKDF": _with_hash("HKDF", 3, "hashmod"),
    "pcd.Protocol.KDF.scrypt": _fixed("scrypt"),
    "pcd.Protocol.KDF.bcrypt": _fixed("bcrypt"),
    "pcd.Protocol.KDF.bcrypt_check": _fixed("bcrypt"),
    "pcd.Hash.HMAC.new": _pcd_hmac,
    "pcd.Hash.CMAC.new": _pcd_cmac,
    "pcd.Signature.DSS.new": _pcd_dss,
    "pcd.PublicKey.RSA.import_key": _fixed("RSA"),
    "pcd.PublicKey.RSA.importKey": _fixed("RSA"),
    "pcd.PublicKey.RSA.construct": _fixed("RSA"),
    "pcd.PublicKey.ECC.import_key": _fixed("ECDSA"),
    "pcd.PublicKey.ECC.construct": _fixed("ECDSA"),
    "pcd.PublicKey.DSA.import_key": _fixed("DSA"),
    "pcd.PublicKey.ElGamal.generate": _fixed("ElGamal"),
}

def _aead(v: Visitor, q: str, node: ast.Call) -> None:
    v.hit(_AEAD[q[5:]], node)


def _aead_generate_key(v: Visitor, q: str, node: ast.Call) -> None:
    bits = v.value(v.arg(node, 0, "bit_length"))
    base = _AEAD.get(q.split(".")[1], q.split(".")[1])
    raw = f"AES-{bits}-{base.split('-', 1)[1]}" if isinstance(bits, int) and base.startswith("AES") else base
    v.hit(raw, node, bits=bits if isinstance(bits, int) else None)


#: Rule families matched by pattern (on the whole qualified name), after :data:`EXACT` and ``_PCD_EXACT``:
#: (head, pattern, handler); the first match wins.
_FAMILIES: tuple[tuple[str, re.Pattern[str], Handler], ...] = (
    ("asym", re.compile(r"asym\..*(Private|Public)(Key)?\.(generate|from_seed_bytes|from_private_bytes|"
                        r"from_public_bytes)$"), _asym_class),
    ("asym", re.compile(r"asym\.padding"), _padding),
    ("hash", re.compile(r"hash\."), _hashes),
    ("alg", re.compile(r"alg\."), _algorithms),
    ("aead", re.compile(r"aead\.(?:" + "|".join(_AEAD) + r")$"), _aead),
    ("aead", re.compile(r"aead\..*\.generate_key$"), _aead_generate_key),
    ("pcd", re.compile(r"pcd\..*\.new$"), _pcd_new),
    ("pcd", re.compile(r"pcd\.PublicKey\..*\.generate$"), _pcd_generate),
    ("hashlib", re.compile(r"hashlib\."), _hashlib),
)
#: Heads (first dotted component) of the qualified names :func:`lookup` has handlers for beyond :data:`EXACT`.
LOOKUP_HEADS = frozenset({"pcd", *(head for head, _, _ in _FAMILIES)})


def lookup(q: str) -> Handler | None:
    """The handler of the qualified callee ``q`` (short form), or ``None``."""
    h = EXACT.get(q)
    if h is not None:
        return h
    head = q.split(".", 1)[0]
    if head not in LOOKUP_HEADS:
        return None
    if q in _PCD_EXACT:
        return _PCD_EXACT[q]
    for family, pattern, handler in _FAMILIES:
        if family == head and pattern.match(q):
            return handler
    return None


def method_call(v: Visitor, node: ast.Call) -> None:
    """Methods on objects whose type the AST cannot know: ``ctx.set_ciphers("...")``, ``ctx.set_ecdh_curve``."""
    if not isinstance(node.func, ast.Attribute):
        return
    name = node.func.attr
    if name == "set_ciphers":
        val = v.value(v.arg(node, 0))
        if isinstance(val, str):
            for tok in re.split(r"[:,\s]+", val):
                if tok and not tok.startswith(("!", "-", "@")) and tok.upper() not in ("HIGH", "DEFAULT", "ALL",
                                                                                    "MEDIUM", "LOW"):
                    v.hit(tok, node, usage="cipher-suite")
    elif name == "set_ecdh_curve":
        val = v.value(v.arg(node, 0))
        if isinstance(val, str):
            v.hit("ECDH", node, curve=val, usage="key-exchange")


#: ``ssl.TLSVersion`` members → protocol words (``ctx.minimum_version = ssl.TLSVersion.TLSv1_1``).
_TLS_VERSIONS = {"SSLv3": "sslv3", "TLSv1": "tlsv1.0", "TLSv1_1": "tlsv1.1", "TLSv1_2": "tlsv1.2",
                 "TLSv1_3": "tlsv1.3"}
_VERSION_ATTRS = ("minimum_version", "maximum_version")


def assignment(v: Visitor, node: ast.Assign) -> None:
    """``k = ec.SECP384R1()`` (later ``generate_private_key(k)`` reads the curve) and TLS version bounds."""
    if len(node.targets) != 1:
        return
    target = node.targets[0]
    if isinstance(target, ast.Name) and isinstance(node.value, ast.Call):
        q = v.qualname(node.value.func)
        if q is not None:
            v.assigned[target.id] = q
    elif isinstance(target, ast.Attribute) and target.attr in _VERSION_ATTRS and isinstance(
            node.value, ast.Attribute):
        q = v.qualname(node.value)
        if q is not None and q.startswith("ssl.TLSVersion.") and q[15:] in _TLS_VERSIONS:
            v.hit(q[15:], node, protocol=_TLS_VERSIONS[q[15:]])


#: Method names matched on any object (:func:`method_call`) and attributes (:func:`assignment`).
METHOD_WORDS = ("set_ciphers", "set_ecdh_curve", *_VERSION_ATTRS)
#: Heads whose every rule also needs one of these names in the file: the ``ssl`` rules hit only on a
#: ``PROTOCOL_*`` constant that pins a version (:func:`_ssl_version`).
HEAD_NEEDS = {"ssl": tuple(SSL_PROTOCOLS)}
#: The names the rules are keyed by, for the prefilter's derivation.
NAMES = derive.PythonRuleNames(prefixes=PREFIXES, short_heads=SHORT_HEADS, exact=tuple(EXACT),
                               lookup_heads=LOOKUP_HEADS, method_words=METHOD_WORDS, head_needs=HEAD_NEEDS)
#: Modules whose names (or the names bound to them) every rule's callee starts with.
CRYPTO_MODULES = derive.rule_heads(NAMES)
