"""Python source: calls into ``cryptography``, PyCryptodome(x), ``ssl``, ``hashlib``, ``hmac``, paramiko,
PyJWT / python-jose, ``rsa`` and ``ecdsa``, found by walking the :mod:`ast` with imports resolved.

Every call's callee is resolved to a qualified name through the file's imports (``from
cryptography.hazmat.primitives.asymmetric import rsa as r`` makes ``r.generate_private_key`` the
``cryptography`` function, while ``import rsa`` makes ``rsa.newkeys`` the ``rsa`` package's). Key sizes,
curves, modes and hash arguments are resolved when they are literals or module-level constants of the
same file. Confidence: 0.9 when every parameter the algorithm needs was resolved, 0.7 otherwise.
"""

from __future__ import annotations

import ast
import bisect
import gc
import re
from collections.abc import Callable

from inventory.errors import MalformedInputError
from inventory.model import AssetType, Finding, Location

SOURCE = "python"
_PREFIXES = (
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
_SHORT_HEADS = frozenset(short.split(".")[0] for _, short in _PREFIXES) - {"jwt"}
_PCD_MODES = {"MODE_ECB": "ECB", "MODE_CBC": "CBC", "MODE_CFB": "CFB", "MODE_OFB": "OFB", "MODE_CTR": "CTR",
              "MODE_GCM": "GCM", "MODE_CCM": "CCM", "MODE_EAX": "EAX", "MODE_SIV": "SIV", "MODE_OCB": "OCB"}
_PCD_CIPHERS = {"AES": "AES", "DES3": "3DES", "DES": "DES", "ARC4": "RC4", "Blowfish": "Blowfish",
                "ChaCha20": "ChaCha20", "ChaCha20_Poly1305": "ChaCha20-Poly1305", "ARC2": "RC2", "CAST": "CAST5",
                "Salsa20": "Salsa20"}
_AEAD = {"AESGCM": "AES-GCM", "AESCCM": "AES-CCM", "AESOCB3": "AES-OCB", "AESSIV": "AES-SIV",
         "AESGCMSIV": "AES-GCM-SIV", "ChaCha20Poly1305": "ChaCha20-Poly1305"}
_HASHLIB = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384", "sha3_512",
            "shake_128", "shake_256", "blake2b", "blake2s", "sha512_224", "sha512_256"}


class _Hit:
    __slots__ = ("raw", "bits", "curve", "mode", "padding", "usage", "resolved", "node", "protocol")

    def __init__(self, raw: str, node: ast.AST, bits: int | None = None, curve: str | None = None,
                 mode: str | None = None, usage: str | None = None, resolved: bool = True,
                 protocol: str | None = None) -> None:
        self.raw, self.node, self.bits, self.curve, self.mode = raw, node, bits, curve, mode
        self.usage, self.resolved, self.padding = usage, resolved, None
        self.protocol = protocol  # a pinned protocol version (``tlsv1.0``): a protocol finding


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.consts: dict[str, object] = {}
        self.hits: list[_Hit] = []
        self.consumed: set[int] = set()
        self.assigned: dict[str, str] = {}  #: name → qualified callee of the call last assigned to it

    # --- name resolution -------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                self.aliases[a.name.split(".")[0]] = a.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.level == 0:
            for a in node.names:
                self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"

    def qualname(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):  # e.g. RSA.importKey(...).something
            return None
        if not isinstance(node, ast.Name):
            return None
        base = self.aliases.get(node.id, node.id)
        name = ".".join([base, *reversed(parts)])
        for long, short in _PREFIXES:
            if name.startswith(long):
                return short + name[len(long):]
        if name.split(".", 1)[0] in _SHORT_HEADS:
            return None  # a local such as ``hash`` or ``alg``: not the module a short prefix stands for
        return name

    def value(self, node: ast.AST | None) -> object:
        """A literal or same-file constant, else ``None``."""
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.consts.get(node.id)
        if isinstance(node, ast.Call) and node.args and not node.keywords:
            q = self.qualname(node.func)
            n = self.value(node.args[0])
            if q in _RANDOM_BYTES and isinstance(n, int) and 0 < n <= 1024:
                return b"\0" * n  # only its length is used: a key of n random bytes
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and node.slice.step is None:
            base = self.value(node.value)
            lo, hi = self.value(node.slice.lower) if node.slice.lower else 0, self.value(node.slice.upper) \
                if node.slice.upper else None
            if isinstance(base, bytes | str) and isinstance(lo, int) and (hi is None or isinstance(hi, int)):
                return base[lo:hi]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            a, b = self.value(node.left), self.value(node.right)
            if isinstance(a, int) and isinstance(b, int):
                return a * b
            if isinstance(a, bytes | str) and isinstance(b, int) and 0 <= b <= 1024:  # b"k" * 32: a 256-bit key
                return a * b
        return None

    # --- collection ------------------------------------------------------------------------------
    def collect_constants(self, tree: ast.Module) -> None:
        """Module-level ``NAME = <literal>`` (also ``2048 * 2``, ``b"k" * 32``, ``B = A``), in file order."""
        for stmt in tree.body:
            target, value = None, None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                target, value = stmt.targets[0].id, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                target, value = stmt.target.id, stmt.value
            if target is not None:
                val = self.value(value)
                if val is not None:
                    self.consts[target] = val
                else:
                    self.consts.pop(target, None)  # rebound to something unknown

    def hit(self, raw: str, node: ast.AST, **kw: object) -> None:
        self.hits.append(_Hit(raw, node, **kw))  # type: ignore[arg-type]

    def handle_call(self, node: ast.Call) -> None:
        if id(node) in self.consumed:
            return
        q = self.qualname(node.func)
        if q is not None:
            handler = _lookup(q)
            if handler is not None:
                handler(self, q, node)
        _method_call(self, node)

    def arg(self, node: ast.Call, index: int, keyword: str | None = None) -> ast.AST | None:
        if keyword:
            for k in node.keywords:
                if k.arg == keyword:
                    return k.value
        if index < len(node.args):
            return node.args[index]
        return None


# --- handlers ------------------------------------------------------------------------------------
Handler = Callable[[_Visitor, str, ast.Call], None]


def _sized(raw: str, index: int, keyword: str) -> Handler:
    def h(v: _Visitor, q: str, node: ast.Call) -> None:
        bits = v.value(v.arg(node, index, keyword))
        v.hit(raw, node, bits=bits if isinstance(bits, int) else None, resolved=isinstance(bits, int))
    return h


def _fixed(raw: str, usage: str | None = None) -> Handler:
    def h(v: _Visitor, q: str, node: ast.Call) -> None:
        v.hit(raw, node, usage=usage)
    return h


def _curve_name(v: _Visitor, node: ast.AST | None) -> str | None:
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


def _ec_generate(v: _Visitor, q: str, node: ast.Call) -> None:
    curve = _curve_name(v, v.arg(node, 0, "curve"))
    v.hit("ECDSA", node, curve=curve, resolved=curve is not None)


def _hash_name(v: _Visitor, node: ast.AST | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Call):
        v.consumed.add(id(node))
        node = node.func
    if isinstance(node, ast.Attribute | ast.Name):
        return _imported_name(v, node)
    val = v.value(node)
    return val if isinstance(val, str) else None


def _imported_name(v: _Visitor, node: ast.Attribute | ast.Name) -> str | None:
    """The last component of a name that the file imports (``hashes.SHA256``, ``sha256`` from ``from hashlib
    import sha256``) or binds to a string constant; ``None`` for a local or attribute such as ``algorithm`` or
    ``self._algorithm`` (a variable is no algorithm name)."""
    head: ast.AST = node
    while isinstance(head, ast.Attribute):
        head = head.value
    if not isinstance(head, ast.Name):
        return None
    if head.id not in v.aliases and head.id not in _CRYPTO_MODULES:
        val = v.consts.get(head.id) if isinstance(node, ast.Name) else None
        return val if isinstance(val, str) else None
    q = v.qualname(node)
    return q.rsplit(".", 1)[-1] if q else None


def _cipher(v: _Visitor, q: str, node: ast.Call) -> None:
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


def _hashes(v: _Visitor, q: str, node: ast.Call) -> None:
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


def _algorithms(v: _Visitor, q: str, node: ast.Call) -> None:
    v.hit(q.split(".", 1)[1], node)


def _asym_class(v: _Visitor, q: str, node: ast.Call) -> None:
    m = re.match(r"asym\.\w+\.(\w+?)(?:Private|Public)(?:Key)?\.(generate|from_seed_bytes|from_private_bytes|"
                 r"from_public_bytes)$", q)
    if m:
        v.hit(m.group(1), node)


def _padding(v: _Visitor, q: str, node: ast.Call) -> None:
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


def _crypto_hmac(v: _Visitor, q: str, node: ast.Call) -> None:
    h = _hash_name(v, v.arg(node, 1, "algorithm"))
    v.hit(f"hmac_{h.lower()}" if h else "HMAC", node, resolved=h is not None)


def _pcd_new(v: _Visitor, q: str, node: ast.Call) -> None:
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


def _pcd_generate(v: _Visitor, q: str, node: ast.Call) -> None:
    mod = q.split(".")[-2]
    if mod == "ECC":
        curve = v.value(v.arg(node, 99, "curve"))
        v.hit("ECDSA", node, curve=curve if isinstance(curve, str) else None, resolved=isinstance(curve, str))
    else:
        bits = v.value(v.arg(node, 0, "bits"))
        v.hit(mod, node, bits=bits if isinstance(bits, int) else None, resolved=isinstance(bits, int))


def _hashlib(v: _Visitor, q: str, node: ast.Call) -> None:
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


def _hmac(v: _Visitor, q: str, node: ast.Call) -> None:
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


def _jwt(v: _Visitor, q: str, node: ast.Call) -> None:
    if q.endswith(".encode"):
        alg = v.value(v.arg(node, 2, "algorithm"))
        v.hit(alg if isinstance(alg, str) else "HS256", node, usage="signature")
    else:
        algs = v.arg(node, 99, "algorithms")
        if isinstance(algs, ast.List | ast.Tuple):
            for elt in algs.elts:
                val = v.value(elt)
                if isinstance(val, str):
                    v.hits.append(_Hit(val, elt, usage="signature"))


def _paramiko(v: _Visitor, q: str, node: ast.Call) -> None:
    cls = q.split(".")[-2]
    if cls == "RSAKey":
        _sized("RSA", 0, "bits")(v, q, node)
    elif cls == "DSSKey":
        _sized("DSA", 0, "bits")(v, q, node)
    elif cls == "ECDSAKey":
        bits = v.value(v.arg(node, 99, "bits"))
        v.hit("ECDSA", node, curve={256: "P-256", 384: "P-384", 521: "P-521"}.get(bits if isinstance(bits, int)
                                                                                  else 256))


def _ecdsa_pkg(v: _Visitor, q: str, node: ast.Call) -> None:
    curve = _curve_name(v, v.arg(node, 99, "curve")) or "NIST192p"
    v.hit("ECDSA", node, curve=curve)


#: ``ssl.PROTOCOL_*`` constants that pin one version (``PROTOCOL_TLS*`` negotiate and are not listed).
_SSL_PROTOCOLS = {"PROTOCOL_SSLv2": "sslv2", "PROTOCOL_SSLv3": "sslv3", "PROTOCOL_TLSv1": "tlsv1.0",
                  "PROTOCOL_TLSv1_1": "tlsv1.1", "PROTOCOL_TLSv1_2": "tlsv1.2"}


def _ssl_version(v: _Visitor, node: ast.Call, arg: ast.AST | None) -> None:
    if isinstance(arg, ast.Attribute | ast.Name):
        q = v.qualname(arg)
        name = q.rsplit(".", 1)[-1] if q else None
        if name in _SSL_PROTOCOLS:
            v.hit(name, node, protocol=_SSL_PROTOCOLS[name])


_RANDOM_BYTES = frozenset({"os.urandom", "secrets.token_bytes", "pcd.Random.get_random_bytes"})


def _consume_args(v: _Visitor, node: ast.Call) -> None:
    """Calls in the arguments (``hashes.SHA256()``, ``algorithms.AES(k)``) are part of this primitive."""
    for a in [*node.args, *(k.value for k in node.keywords)]:
        for sub in ast.walk(a):
            if isinstance(sub, ast.Call):
                v.consumed.add(id(sub))


def _with_hash(raw: str, index: int, keyword: str, sep: str = "-") -> Handler:
    """A construction parameterised by a hash (``HKDF(algorithm=hashes.SHA256())`` → HKDF-SHA256)."""
    def h(v: _Visitor, q: str, node: ast.Call) -> None:
        name = _hash_name(v, v.arg(node, index, keyword))
        _consume_args(v, node)
        word = name.upper().replace("_", "-").replace("SHA-", "SHA") if name else None  # SHA256, SHA3-256
        v.hit(f"{raw}{sep}{word}" if word else raw, node, resolved=word is not None)
    return h


def _whole(raw: str, usage: str | None = None) -> Handler:
    """One primitive whatever the arguments; calls inside them are part of it."""
    def h(v: _Visitor, q: str, node: ast.Call) -> None:
        _consume_args(v, node)
        v.hit(raw, node, usage=usage)
    return h


def _ec_numbers(index: int, keyword: str) -> Handler:
    def h(v: _Visitor, q: str, node: ast.Call) -> None:
        curve = _curve_name(v, v.arg(node, index, keyword))
        v.hit("ECDSA", node, curve=curve, resolved=curve is not None)
    return h


def _last_name(v: _Visitor, node: ast.AST | None) -> str | None:
    q = v.qualname(node) if isinstance(node, ast.Attribute | ast.Name) else None
    return q.rsplit(".", 1)[-1] if q else None


def _pcd_hmac(v: _Visitor, q: str, node: ast.Call) -> None:
    mod = v.arg(node, 2, "digestmod")
    name = _last_name(v, mod)
    v.hit(f"hmac_{name.lower()}" if name else "HMAC-SHA256" if mod is None else "HMAC", node)


def _pcd_cmac(v: _Visitor, q: str, node: ast.Call) -> None:
    mod = v.arg(node, 2, "ciphermod")
    name = _last_name(v, mod)
    v.hit(f"{_PCD_CIPHERS.get(name, name)}-CMAC" if name else "AES-CMAC", node)


def _pcd_dss(v: _Visitor, q: str, node: ast.Call) -> None:
    key = v.arg(node, 0, "key")
    made = v.assigned.get(key.id, "") if isinstance(key, ast.Name) else ""
    v.hit("ECDSA" if ".ECC." in made else "DSA", node, usage="signature")


_EXACT: dict[str, Handler] = {
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


#: PyCryptodome names (``pcd.`` stands for ``Crypto.`` or ``Cryptodome.``): reached through :func:`_lookup`.
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

#: Heads (first dotted component) of the qualified names :func:`_lookup` has handlers for beyond :data:`_EXACT`.
_LOOKUP_HEADS = frozenset({"asym", "hash", "alg", "aead", "pcd", "hashlib"})


def _lookup(q: str) -> Handler | None:
    h = _EXACT.get(q)
    if h is not None:
        return h
    if q.split(".", 1)[0] not in _LOOKUP_HEADS:
        return None
    if q in _PCD_EXACT:
        return _PCD_EXACT[q]
    if q.startswith("asym.") and re.search(r"(Private|Public)(Key)?\.(generate|from_seed_bytes|from_private_bytes|"
                                           r"from_public_bytes)$", q):
        return _asym_class
    if q.startswith("asym.padding.") or q.startswith("asym.padding"):
        return _padding
    if q.startswith("hash."):
        return _hashes
    if q.startswith("alg."):
        return _algorithms
    if q.startswith("aead.") and q.count(".") == 1 and q[5:] in _AEAD:
        return _fixed(_AEAD[q[5:]])
    if q.startswith("aead.") and q.endswith(".generate_key"):
        cls = q.split(".")[1]

        def gen(v: _Visitor, q: str, node: ast.Call) -> None:
            bits = v.value(v.arg(node, 0, "bit_length"))
            base = _AEAD.get(cls, cls)
            raw = f"AES-{bits}-{base.split('-', 1)[1]}" if isinstance(bits, int) and base.startswith("AES") else base
            v.hit(raw, node, bits=bits if isinstance(bits, int) else None)
        return gen
    if q.startswith("pcd.") and q.endswith(".new"):
        return _pcd_new
    if q.startswith("pcd.PublicKey.") and q.endswith(".generate"):
        return _pcd_generate
    if q.startswith("hashlib."):
        return _hashlib
    return None


def _method_call(v: _Visitor, node: ast.Call) -> None:
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


def _assignment(v: _Visitor, node: ast.Assign) -> None:
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


def _rule_heads() -> frozenset[str]:
    """Top-level module names that every rule's resolved callee starts with, derived from the rule tables.

    A qualified name reaches a handler only through :data:`_EXACT` or :func:`_lookup` (heads in
    :data:`_LOOKUP_HEADS`); a short head (``asym``, ``pcd``…) is only ever produced from a long name of
    :data:`_PREFIXES`, so it stands for that long name's head (``cryptography``, ``Crypto``…); a short
    head outside :data:`_SHORT_HEADS` (``jwt``) is also a real module name that :meth:`_Visitor.qualname`
    passes through.
    """
    short_to_long: dict[str, set[str]] = {}
    for long, short in _PREFIXES:
        short_to_long.setdefault(short.split(".")[0], set()).add(long.split(".")[0])
    heads: set[str] = set()
    for q in (*_EXACT, *(h + ".x" for h in _LOOKUP_HEADS)):
        head = q.split(".", 1)[0]
        heads |= short_to_long.get(head, set())
        if head not in _SHORT_HEADS:
            heads.add(head)
    return frozenset(heads)


#: Modules whose names (or the names bound to them) every rule's callee starts with.
_CRYPTO_MODULES = _rule_heads()
#: Method names matched on any object (:func:`_method_call`).
_METHOD_WORDS = ("set_ciphers", "set_ecdh_curve", *_VERSION_ATTRS)
#: Heads whose every rule also needs one of these names in the file: the ``ssl`` rules hit only on a
#: ``PROTOCOL_*`` constant that pins a version (:func:`_ssl_version`).
_HEAD_NEEDS = {"ssl": tuple(_SSL_PROTOCOLS)}


def trigger_words() -> frozenset[str]:
    """Identifiers of which every Python finding needs at least one in the (NFKC-normalised) source text.

    A finding is a call whose callee resolves to a rule head (:data:`_CRYPTO_MODULES`): the head is
    either written as a name or bound by an import statement that names it (both contain the head as a
    whole identifier), except for heads listed in :data:`_HEAD_NEEDS`, which need one of their words; or
    a method call named in :data:`_METHOD_WORDS`. Used by the file prefilter.
    """
    words = set(_METHOD_WORDS)
    for head in _CRYPTO_MODULES:
        words.update(_HEAD_NEEDS.get(head, (head,)))
    return frozenset(words)


def _written(q: str) -> str:
    """The dotted name as written in source for a rule's qualified name (a short head back to its long
    prefix: ``asym.rsa.x`` → ``cryptography.hazmat.primitives.asymmetric.rsa.x``)."""
    head = q.split(".", 1)[0]
    if head in _SHORT_HEADS:
        for long, short in _PREFIXES:
            if q.startswith(short):
                return long + q[len(short):]
    return q


def rule_requirements() -> list[tuple[frozenset[str], ...]]:
    """For every rule, the identifiers a file needs to hold (each slot: one of its words) to get a finding.

    A resolved callee's every dotted component is written in the file as an identifier: in the attribute
    chain of the call, or in the import statement whose alias the chain starts with (an alias is bound to
    the module path the import spells out). So an :data:`_EXACT` rule needs each component of its written
    name; a :func:`_lookup` family needs the components of its prefix (the rest of the name is open; for
    ``pcd`` either spelling); a head in :data:`_HEAD_NEEDS` also needs one of its words; and the method
    rules need their method name. Each rule's first slot holds only :func:`trigger_words`.
    """
    rules: list[tuple[frozenset[str], ...]] = []
    for q in _EXACT:
        slots = [frozenset({w}) for w in _written(q).split(".")]
        if q.split(".", 1)[0] in _HEAD_NEEDS:
            slots.insert(0, frozenset(_HEAD_NEEDS[q.split(".", 1)[0]]))
        rules.append(tuple(slots))
    for head in sorted(_LOOKUP_HEADS):
        if head in _SHORT_HEADS:
            spellings = [long.rstrip(".").split(".") for long, short in _PREFIXES if short.split(".")[0] == head
                         and short.count(".") == 1]
            width = max(len(sp) for sp in spellings)
            if len(spellings) == 1 or all(len(sp) == 1 for sp in spellings):
                slots = [frozenset(sp[i] for sp in spellings if i < len(sp)) for i in range(width)]
            else:  # several multi-component spellings: only their first components are surely written
                slots = [frozenset(sp[0] for sp in spellings)]
            rules.append(tuple(slots))
        else:
            rules.append((frozenset({head}),))
    rules += [(frozenset({w}),) for w in _METHOD_WORDS]
    return rules


def plain_ascii(data: bytes) -> bool:
    """True if ``data`` is ASCII without a PEP 263 coding line: the parser then sees these very bytes as
    characters (a cookie such as ``utf-7`` or ``unicode_escape``, or NFKC normalisation of non-ASCII
    identifiers, could otherwise turn other bytes into a name such as ``hashlib``)."""
    if not data.isascii():
        return False
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1) if first >= 0 else -1
    return b"coding" not in (data if second < 0 else data[:second])


_BODY_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _collect_imports(v: _Visitor, tree: ast.Module, import_lines: list[int] | None) -> None:
    """Every ``import``/``from … import`` of the file, at any depth (statements only: imports are statements).

    With ``import_lines`` (the lines holding the word ``import``), statements whose line span holds none of
    them are not entered: an import statement spans its ``import`` keyword, and so does any statement that
    contains one. The imports visited, and their order, are the same as without pruning.
    """
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            v.visit_Import(node)
            continue
        if isinstance(node, ast.ImportFrom):
            v.visit_ImportFrom(node)
            continue
        for name in _BODY_FIELDS:
            child = getattr(node, name, None)
            if child.__class__ is list:
                if import_lines is None:
                    stack.extend(child)
                else:
                    stack.extend(c for c in child if not isinstance(c, ast.stmt) or _spans_hot(c, import_lines))


def _line_numbers_reliable(data: bytes) -> bool:
    """Byte-level line numbers and identifiers agree with the parser's: plain ASCII (no coding cookie, no
    NFKC-normalised identifier) and no bare ``\\r`` newline."""
    return plain_ascii(data) and (b"\r" not in data or data.count(b"\r") == data.count(b"\r\n"))


def _lines_of(data: bytes, positions: list[int]) -> list[int]:
    """Sorted distinct 1-based line numbers of sorted byte offsets."""
    lines: list[int] = []
    line, pos = 1, 0
    for start in positions:
        line += data.count(b"\n", pos, start)
        pos = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _import_lines(data: bytes) -> list[int]:
    positions = []
    i = data.find(b"import")
    while i >= 0:
        positions.append(i)
        i = data.find(b"import", i + 6)
    return _lines_of(data, positions)


_WORD_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _hot_lines(data: bytes, aliases: dict[str, str]) -> list[int]:
    """Sorted 1-based numbers of the lines that mention a crypto module, a name bound to one, or a method we
    match (``set_ciphers``…), as a whole word. A call can only be a finding if its callee names one of these,
    so statements spanning none of these lines are skipped. Only for data with reliable line numbers
    (:func:`_line_numbers_reliable`)."""
    positions = [m.start() for m in _STATIC_WORDS.finditer(data)]
    extra = {k for k, target in aliases.items() if target.split(".", 1)[0] in _CRYPTO_MODULES} - _STATIC_SET
    for word in extra:
        w = word.encode("ascii")
        i = data.find(w)
        while i >= 0:
            j = i + len(w)
            if (i == 0 or data[i - 1] not in _WORD_CHARS) and (j == len(data) or data[j] not in _WORD_CHARS):
                positions.append(i)
            i = data.find(w, j)
    if extra:
        positions.sort()
    return _lines_of(data, positions)


_STATIC_SET = frozenset(_CRYPTO_MODULES) | frozenset(_METHOD_WORDS)
_STATIC_WORDS = re.compile(rb"\b(?:" + b"|".join(re.escape(w.encode()) for w in sorted(_STATIC_SET)) + rb")\b")


def _spans_hot(node: ast.stmt, hot: list[int]) -> bool:
    first = node.lineno
    for d in getattr(node, "decorator_list", ()):
        first = min(first, d.lineno)
    i = bisect.bisect_left(hot, first)
    return i < len(hot) and hot[i] <= (node.end_lineno or node.lineno)


def _parse(path: str, text: str | bytes) -> ast.Module:
    try:
        return ast.parse(text, filename=path)
    except SyntaxError:
        if not isinstance(text, bytes):
            raise
        # undecodable bytes (a Latin-1 comment without a coding cookie): parse what a lenient decode gives
        return ast.parse(text.decode("utf-8", "replace"), filename=path)


def scan(path: str, text: str | bytes) -> list[Finding]:
    """Findings of one Python file (``bytes`` are decoded by the parser, PEP 263 cookie honoured); a syntax
    error raises :class:`MalformedInputError` with its line."""
    # an AST has no reference cycles: the cyclic GC would only re-scan its ~10^5 fresh nodes, again and again
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        return _scan_tree(path, text)
    finally:
        if gc_was_on:
            gc.enable()


def _scan_tree(path: str, text: str | bytes) -> list[Finding]:
    try:
        tree = _parse(path, text)
    except SyntaxError as exc:
        raise MalformedInputError(f"{path}:{exc.lineno or 0}", f"Python syntax error: {exc.msg}") from None
    except ValueError as exc:  # NUL bytes
        raise MalformedInputError(path, f"not Python source: {exc}") from None
    v = _Visitor()
    v.collect_constants(tree)
    data = text.encode("utf-8") if isinstance(text, str) else text
    reliable = _line_numbers_reliable(data)
    _collect_imports(v, tree, _import_lines(data) if reliable else None)
    hot = _hot_lines(data, v.aliases) if reliable else None
    calls: list[ast.Call] = []
    assigns: list[ast.Assign] = []
    # pre-order walk (an outer call comes before the calls nested in it), without ast.walk's generators;
    # statements whose line span holds no hot line cannot contain a hit and are not entered
    AST, Call, stmt = ast.AST, ast.Call, ast.stmt
    stack: list[ast.AST] = [tree]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        cls = type(node)
        if cls is Call:
            calls.append(node)  # type: ignore[arg-type]
        elif cls is ast.Assign:
            assigns.append(node)  # type: ignore[arg-type]
        for name in cls._fields:
            child = getattr(node, name, None)
            if child.__class__ is list:
                for item in reversed(child):
                    if isinstance(item, AST):
                        if hot is not None and isinstance(item, stmt) and not _spans_hot(item, hot):
                            continue
                        push(item)
            elif isinstance(child, AST) and child._fields:
                push(child)
    for a in assigns:
        _assignment(v, a)
    for call in calls:
        v.handle_call(call)
    if not v.hits:
        return []
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = text.splitlines()
    out = []
    for h in v.hits:
        line = getattr(h.node, "lineno", 1)
        col = getattr(h.node, "col_offset", 0) + 1
        ctx = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        if h.protocol is not None:
            out.append(Finding(raw=h.raw, asset_type=AssetType.PROTOCOL, source=SOURCE,
                               location=Location(path, line, col), confidence=0.9, usage="protocol",
                               context=ctx[:200], details={"id": f"{SOURCE}:{h.protocol}", "protocol": h.protocol}))
            continue
        out.append(Finding(raw=h.raw, asset_type=AssetType.ALGORITHM, source=SOURCE, location=Location(path, line, col),
                           confidence=0.9 if h.resolved else 0.7, key_bits=h.bits, curve=h.curve, mode=h.mode,
                           usage=h.usage, context=ctx[:200]))
    return out
