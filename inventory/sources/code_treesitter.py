"""Java, Go, JavaScript/TypeScript, C/C++ and C# source, parsed with tree-sitter.

Why tree-sitter and these packages: a real parser tells a call from a comment or a string that merely
mentions "MD5", gives exact line/column, and lets us resolve a key size that is a constant of the same
file. ``tree-sitter-language-pack`` 1.x was rejected: its wheel ships no grammars and downloads them at
run time from a remote manifest (impossible offline and in CI). The per-language grammar wheels of the
tree-sitter organisation (``tree-sitter-java``, ``-go``, ``-javascript``, ``-typescript``, ``-c``,
``-cpp``, ``-c-sharp``) ship compiled grammars and are maintained with the parser itself.

If a grammar cannot be loaded, :func:`scan` falls back to :mod:`inventory.sources.code_regex`, whose
findings carry confidence 0.5 (tree-sitter findings: 0.9 resolved / 0.7 with an unresolved parameter).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from inventory.model import AssetType, Finding, Location
from inventory.sources import java_api

LANG_OF_SUFFIX = {".java": "java", ".go": "go", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
                  ".jsx": "javascript", ".ts": "typescript", ".tsx": "tsx", ".c": "c", ".h": "c", ".cc": "cpp",
                  ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".cs": "csharp"}
_CALL_TYPES = {"method_invocation", "call_expression", "invocation_expression"}
_NEW_TYPES = {"object_creation_expression", "new_expression"}
_STRING_TYPES = {"string_literal", "string", "interpreted_string_literal", "raw_string_literal",
                 "verbatim_string_literal", "template_string"}
_NUMBER_TYPES = {"decimal_integer_literal", "int_literal", "number", "number_literal", "integer_literal"}


#: Language → (grammar wheel module, its language-capsule factory).
_GRAMMARS: dict[str, tuple[str, str]] = {
    "java": ("tree_sitter_java", "language"), "go": ("tree_sitter_go", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"), "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"), "csharp": ("tree_sitter_c_sharp", "language"),
}


@cache
def parser_for(lang: str) -> Any:
    """A tree-sitter parser for ``lang``; raises ImportError if its grammar wheel is missing."""
    import importlib

    import tree_sitter

    module, factory = _GRAMMARS.get(lang, (None, ""))
    if module is None:
        raise ImportError(lang)
    grammar: Any = importlib.import_module(module)
    capsule = getattr(grammar, factory)()
    return tree_sitter.Parser(tree_sitter.Language(capsule))


@dataclass(slots=True)
class Arg:
    """One call argument: its node, its literal/constant value, and its text (identifiers, member access)."""

    node: Any
    value: str | int | None
    text: str
    pairs: dict[str, Arg] = field(default_factory=dict)


@dataclass(slots=True)
class _Hit:
    raw: str
    node: Any
    bits: int | None = None
    curve: str | None = None
    usage: str | None = None
    resolved: bool = True
    protocol: str | None = None  # a protocol version the code enables (``tlsv1.0``): a protocol finding


class _File:
    def __init__(self, lang: str, src: bytes) -> None:
        self.lang = lang
        self.src = src
        self._consts: dict[str, str | int] | None = None
        self.root: Any = None  #: the tree's root node: constants are collected from it on first use
        self.hits: list[_Hit] = []
        self.consumed: set[int] = set()
        self.vars: dict[str, _Hit] = {}
        self.bc_vars: dict[str, str] = {}  #: variable → description of the BouncyCastle object it holds
        self.go_imports: dict[str, str] = {}  #: Go package name → crypto import path

    @property
    def consts(self) -> dict[str, str | int]:
        """Literal constants of the file (name → value), collected on first use: most files that reach a parser
        have no call a rule resolves an identifier argument of."""
        if self._consts is None:
            self._consts = {}
            if self.root is not None:
                _collect_consts(self, self.root)
        return self._consts

    def text(self, node: Any) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def literal(self, node: Any) -> str | int | None:
        t = node.type
        if t == "argument":  # C# wraps arguments
            return self.literal(node.named_children[0]) if node.named_children else None
        if t in _STRING_TYPES:
            s = self.text(node)
            if s.startswith("@"):
                s = s[1:]
            return s[1:-1] if len(s) >= 2 else s
        if t in _NUMBER_TYPES:
            s = self.text(node).rstrip("uUlL")
            try:
                return int(s, 0)
            except ValueError:
                return None
        if t == "cast_expression":  # C: (size_t)3072
            value = node.child_by_field_name("value")
            return self.literal(value) if value is not None else None
        if t in ("identifier", "expression_list", "preproc_arg", "parenthesized_expression"):
            if t == "identifier":
                return self.consts.get(self.text(node))
            s = self.text(node).strip().strip("()")
            if s.isdigit():
                return int(s)
            if t == "expression_list" and node.named_children:
                return self.literal(node.named_children[0])
            return self.consts.get(s)
        return None

    def arg(self, node: Any) -> Arg:
        inner = node.named_children[0] if node.type == "argument" and node.named_children else node
        a = Arg(inner, self.literal(inner), re.sub(r"\s+", "", self.text(inner)))
        if inner.type == "object":  # JS object literal
            for pair in inner.named_children:
                if pair.type == "pair":
                    k = pair.child_by_field_name("key")
                    v = pair.child_by_field_name("value")
                    if k is not None and v is not None:
                        a.pairs[self.text(k).strip("'\"")] = self.arg(v)
        return a

    def args(self, call: Any) -> list[Arg]:
        al = call.child_by_field_name("arguments")
        if al is None:
            return []
        return [self.arg(c) for c in al.named_children if c.type != "comment"]

    def hit(self, raw: str, node: Any, **kw: Any) -> _Hit:
        h = _Hit(raw, node, **kw)
        self.hits.append(h)
        return h


_CONST_KINDS = ("variable_declarator", "const_spec", "init_declarator", "preproc_def")
#: Node kinds the rules look at (calls, constructions, member accesses, Go keyed elements and assignments).
_WALK_KINDS = ("method_invocation", "call_expression", "invocation_expression", "object_creation_expression",
               "new_expression", "member_access_expression", "field_access", "keyed_element", "assignment_statement",
               "selector_expression")


@cache
def _query(lang: str, kinds: tuple[str, ...]) -> Any:
    """A tree-sitter query capturing every node of ``kinds`` that the language's grammar has (``None``: none)."""
    import tree_sitter

    language = parser_for(lang).language
    present = [k for k in kinds if language.id_for_node_kind(k, True)]
    return tree_sitter.Query(language, " ".join(f"({k}) @n" for k in present)) if present else None


def _nodes(lang: str, root: Any, kinds: tuple[str, ...], spans: list[tuple[int, int]] | None = None) -> list[Any]:
    """Nodes of ``kinds`` under ``root`` in pre-order (an outer node before the nodes inside it), found by the
    grammar's query engine instead of a walk in Python over every node. With ``spans`` (byte ranges), only the
    nodes that overlap one of them."""
    import tree_sitter

    q = _query(lang, kinds)
    if q is None:
        return []
    cursor = tree_sitter.QueryCursor(q)
    if spans is None:
        nodes = list(cursor.captures(root).get("n", []))
    else:
        found: dict[int, Any] = {}
        for start, end in spans:
            cursor.set_byte_range(start, end)
            for n in cursor.captures(root).get("n", []):
                found[n.id] = n
        nodes = list(found.values())
    nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))
    return nodes


#: Languages whose rules look at calls and constructions only, each reported only when its callee holds one of
#: :func:`_callee_filter`'s words: the walk can be limited to the nodes around those words in the source.
_CALLS_ONLY = frozenset({"javascript", "typescript", "tsx", "c", "cpp"})
#: Above this many places where a callee word occurs, one pass over the whole tree is cheaper than one per place.
_MAX_SPANS = 400


@cache
def _word_pieces(lang: str) -> Callable[[bytes], list[tuple[int, int]]] | None:
    """A finder of one identifier piece of every callee word of ``lang`` (``md.md5`` → ``md5``) in source bytes,
    giving (start, end) spans: a callee that holds a word holds its pieces verbatim in the source (the whitespace
    :func:`_callee` strips never splits an identifier)."""
    words = _trigger_table()[lang]
    if words is None:
        return None
    pieces = set()
    for w in words:
        parts = [p for p in re.split(r"[^A-Za-z0-9_$]+", w) if p]
        if not parts:
            return None
        pieces.add(max(parts, key=len).encode())
    needles = sorted(pieces, key=len, reverse=True)
    try:
        import ahocorasick_rs
    except ImportError:  # pragma: no cover - the regex does the same, slower
        pattern = re.compile(b"|".join(re.escape(p) for p in needles))
        return lambda src: [m.span() for m in pattern.finditer(src)]
    ac = ahocorasick_rs.BytesAhoCorasick(needles)
    return lambda src: [(start, end) for _, start, end in ac.find_matches_as_indexes(src)]


def _call_spans(lang: str, src: bytes) -> list[tuple[int, int]] | None:
    """Byte ranges of the callee words in ``src`` (``None``: walk the whole tree)."""
    if lang not in _CALLS_ONLY:
        return None
    finder = _word_pieces(lang)
    if finder is None:
        return None
    spans = finder(src)
    return spans if len(spans) <= _MAX_SPANS else None


def _collect_consts(f: _File, root: Any) -> None:
    # reversed document order, so that the first declaration of a name wins
    for n in reversed(_nodes(f.lang, root, _CONST_KINDS)):
        name = n.child_by_field_name("name") or n.child_by_field_name("declarator")
        value = n.child_by_field_name("value")
        if value is None and n.type == "variable_declarator":  # C#: identifier = literal
            kids = n.named_children
            value = kids[-1] if len(kids) >= 2 else None
        if name is not None and value is not None and name.type == "identifier":
            lit = f.literal(value)
            if lit is not None:
                f.consts[f.text(name)] = lit


# --- per-language rules -------------------------------------------------------------------------
_JAVA_FACTORIES = {"Cipher", "MessageDigest", "Signature", "KeyPairGenerator", "KeyGenerator", "KeyAgreement",
                   "Mac", "SecretKeyFactory", "KeyFactory", "KEM", "AlgorithmParameterGenerator",
                   "AlgorithmParameters"}
_JAVA_GET = "getInstance"
_JAVA_EC_SPEC = "ECGenParameterSpec"
_JAVA_NEW_INSTANCE = "newInstance"


#: ``SSLContext.getInstance`` protocol names that pin a version (``"TLS"`` does not).
_JAVA_PROTOCOLS = {"sslv3": "sslv3", "tlsv1": "tlsv1.0", "tlsv1.1": "tlsv1.1", "tlsv1.2": "tlsv1.2",
                   "tlsv1.3": "tlsv1.3", "sslv2hello": "sslv2"}
#: OpenSSL protocol-version macros (``SSL_CTX_set_min_proto_version`` and friends).
_C_PROTOCOLS = {"SSL3_VERSION": "sslv3", "TLS1_VERSION": "tlsv1.0", "TLS1_1_VERSION": "tlsv1.1",
                "TLS1_2_VERSION": "tlsv1.2", "TLS1_3_VERSION": "tlsv1.3"}
#: JCA key and parameter specs: class → (spelling, index of a string argument naming the algorithm or None,
#: index of an int argument giving the key size or None).
_JAVA_SPECS: dict[str, tuple[str | None, int | None, int | None]] = {
    "SecretKeySpec": (None, -1, None), "NamedParameterSpec": (None, 0, None),
    "RSAKeyGenParameterSpec": ("RSA", None, 0), "DHParameterSpec": ("DH", None, None),
    "DHGenParameterSpec": ("DH", None, 0), "DSAGenParameterSpec": ("DSA", None, 0),
    "DSAParameterSpec": ("DSA", None, None), "OAEPParameterSpec": ("RSAES-OAEP", None, None),
    "PSSParameterSpec": ("RSASSA-PSS", None, None), "ECParameterSpec": ("ECDSA", None, None),
    "RSAPublicKeySpec": ("RSA", None, None), "RSAPrivateKeySpec": ("RSA", None, None),
    "RSAPrivateCrtKeySpec": ("RSA", None, None), "DSAPublicKeySpec": ("DSA", None, None),
    "DSAPrivateKeySpec": ("DSA", None, None), "DHPublicKeySpec": ("DH", None, None),
    "DHPrivateKeySpec": ("DH", None, None), "ECPublicKeySpec": ("ECDSA", None, None),
    "ECPrivateKeySpec": ("ECDSA", None, None), "XECPublicKeySpec": ("X25519", None, None),
    "XECPrivateKeySpec": ("X25519", None, None), "EdECPublicKeySpec": ("Ed25519", None, None),
    "EdECPrivateKeySpec": ("Ed25519", None, None), "DESedeKeySpec": ("3DES", None, None),
    "DESKeySpec": ("DES", None, None), "ChaCha20ParameterSpec": ("ChaCha20", None, None),
}
#: JSSE setters whose string-array argument lists protocols, cipher suites or named groups.
_JSSE_SETTERS = {"setEnabledProtocols": "protocol", "setProtocols": "protocol", "setEnabledCipherSuites": "suite",
                 "setCipherSuites": "suite", "setNamedGroups": "group"}
_JAVA_HASHES = {"sha-1": "SHA1", "sha-224": "SHA224", "sha-256": "SHA256", "sha-384": "SHA384", "sha-512": "SHA512",
                "sha1": "SHA1", "sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512"}


def _java_class_and_args(f: _File, node: Any) -> tuple[str, list[Any]] | None:
    """(class, argument nodes) of ``new X(…)`` or ``X.newInstance(…)`` with X a BouncyCastle class we know."""
    if node.type == "argument" and node.named_children:  # C# wraps each argument
        node = node.named_children[0]
    if node.type == "object_creation_expression":
        t = node.child_by_field_name("type")
        if t is None:
            return None
        cls = f.text(t).split("<", 1)[0].rsplit(".", 1)[-1]
    elif node.type == "method_invocation":
        name = node.child_by_field_name("name")
        obj = node.child_by_field_name("object")
        if name is None or obj is None or f.text(name) != _JAVA_NEW_INSTANCE:
            return None
        cls = f.text(obj).rsplit(".", 1)[-1]
    else:
        return None
    if cls not in _BC_CLASSES:
        return None
    al = node.child_by_field_name("arguments")
    return cls, [c for c in al.named_children if c.type != "comment"] if al is not None else []


def _bc(f: _File, node: Any) -> bool:
    """Report a BouncyCastle construction as one primitive (see :mod:`inventory.sources.java_api`)."""
    got = _java_class_and_args(f, node)
    if got is None:
        return False

    def var(n: Any) -> str | None:
        return f.bc_vars.get(f.text(n)) if n.type == "identifier" else None

    d = java_api.Describer(lambda n: _java_class_and_args(f, n), f.literal, var)
    name = d.describe_class(*got)
    if name is None:
        return False
    for inner in d.inner:
        f.consumed.add(inner.id)
    h = f.hit(name, node, usage="key-exchange" if "Agreement" in got[0] else None)
    decl = node.parent
    if decl is not None and decl.type == "variable_declarator":
        target = decl.child_by_field_name("name")
        if target is not None:
            f.bc_vars[f.text(target)] = name
            f.vars[f.text(target)] = h
    return True


def _java_strings(f: _File, node: Any) -> list[tuple[str, Any]]:
    """String literals (resolved constants too) inside an argument such as ``new String[] {…}``."""
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        v = f.literal(n) if n.type in ("string_literal", "identifier") else None
        if isinstance(v, str):
            out.append((v, n))
            continue
        stack.extend(reversed(n.named_children))
    return out


def _java_spec(f: _File, node: Any, cls: str, args: list[Arg]) -> None:
    raw, name_at, bits_at = _JAVA_SPECS[cls]
    if name_at is not None and len(args) > abs(name_at) - (1 if name_at < 0 else 0):
        v = args[name_at].value
        if not isinstance(v, str):
            return
        raw = v
    if raw is None:
        return
    bits = args[bits_at].value if bits_at is not None and len(args) > bits_at else None
    bits = bits if isinstance(bits, int) else None
    if cls == "PSSParameterSpec" and args and isinstance(args[0].value, str):
        word = _JAVA_HASHES.get(args[0].value.lower())
        raw = f"RSASSA-PSS-{word}" if word else raw
    target = _enclosing_init_target(f, node)
    if target is not None and bits is not None:
        target.bits, target.resolved = bits, True
        return
    f.hit(raw, node, bits=bits)


def _enclosing_init_target(f: _File, node: Any) -> _Hit | None:
    """The earlier hit whose variable an enclosing ``v.initialize(…)`` / ``v.init(…)`` call configures."""
    parent = node.parent
    while parent is not None and parent.type not in ("method_invocation",):
        parent = parent.parent
    if parent is None:
        return None
    obj = parent.child_by_field_name("object")
    return f.vars.get(f.text(obj)) if obj is not None else None


def _java(f: _File, node: Any, callee: str, args: list[Arg], new: bool) -> None:
    last = callee.split("<", 1)[0].rsplit(".", 1)[-1]
    if new:
        if last == _JAVA_EC_SPEC and args and isinstance(args[0].value, str):
            target = _enclosing_init_target(f, node)
            if target is not None:
                target.curve, target.resolved = args[0].value, True
            else:
                f.hit("ECDSA", node, curve=args[0].value)
            return
        if last in _JAVA_SPECS:
            _java_spec(f, node, last, args)
            return
        _bc(f, node)
        return
    parts = callee.split(".")
    if last == _JAVA_NEW_INSTANCE and _bc(f, node):
        return
    if callee in java_api.STATIC:
        f.hit(java_api.STATIC[callee], node)
        return
    if last == _JAVA_GET and len(parts) >= 2 and parts[-2] == "SSLContext" and args and isinstance(
            args[0].value, str):
        version = _JAVA_PROTOCOLS.get(args[0].value.lower())
        if version is not None:
            f.hit(args[0].value, node, protocol=version)
        return
    if last in _JSSE_SETTERS and args:
        kind = _JSSE_SETTERS[last]
        for value, el in _java_strings(f, args[0].node):
            if kind == "protocol":
                version = _JAVA_PROTOCOLS.get(value.lower())
                if version is not None:
                    f.hit(value, el, protocol=version)
            else:
                f.hit(value, el, usage="key-exchange" if kind == "group" else "cipher-suite")
        return
    if last == _JAVA_GET and len(parts) >= 2 and parts[-2] in _JAVA_FACTORIES and args:
        if isinstance(args[0].value, str):
            kind = parts[-2]
            h = f.hit(args[0].value, node, usage="key-exchange" if kind == "KeyAgreement" else None,
                      resolved=kind not in ("KeyPairGenerator", "KeyGenerator"))
            decl = node.parent
            if decl is not None and decl.type == "variable_declarator":
                name = decl.child_by_field_name("name")
                if name is not None:
                    f.vars[f.text(name)] = h
            elif decl is not None and decl.type == "assignment_expression":
                left = decl.child_by_field_name("left")
                if left is not None:
                    f.vars[f.text(left)] = h
        return
    if last in ("initialize", "init") and len(parts) >= 2 and parts[-2] in f.vars and args:
        target = f.vars[parts[-2]]
        if isinstance(args[0].value, int):
            target.bits, target.resolved = args[0].value, True
        elif args[0].node.type == "object_creation_expression":
            t = args[0].node.child_by_field_name("type")
            cls = f.text(t).rsplit(".", 1)[-1] if t is not None else ""
            if cls == "RSAKeyGenerationParameters" and len(args[0].node.child_by_field_name(
                    "arguments").named_children) > 2:
                bits = f.literal(args[0].node.child_by_field_name("arguments").named_children[2])
                if isinstance(bits, int):
                    target.bits, target.resolved = bits, True


def _java_field(f: _File, node: Any) -> None:
    """``MLKEMParameters.ml_kem_768`` and the like: the parameter set the code chooses."""
    name = java_api.param_field(f.text(node))
    if name is not None:
        f.hit(name, node)


_BC_CLASSES = java_api.class_names()
#: ``getInstance`` counts only on these classes: the prefilter looks for ``Class.getInstance`` as written (a
#: call spelt with white space or a line break before the dot is the one form it can miss).
_JAVA_GET_WORDS = tuple(f"{c}.{_JAVA_GET}" for c in (*_JAVA_FACTORIES, "SSLContext"))


#: Go crypto packages by import path → functions → (catalogue spelling, how to refine it). Refinements:
#: ``bits@i`` key size in argument i; ``curve@i`` curve constructor in argument i; ``hash@i`` hash
#: constructor in argument i (``sha256.New`` → HMAC-SHA256 / HKDF-SHA256); ``dsa@i`` a ``dsa.L2048N256``
#: size; ``mode`` a cipher mode over the block cipher in argument 0 (AES when it cannot be told).
_GO_FUNCS: dict[str, dict[str, tuple[str, str | None]]] = {
    "crypto/rsa": {"GenerateKey": ("RSA", "bits@1"), "GenerateMultiPrimeKey": ("RSA", "bits@2"),
                   "SignPSS": ("RSASSA-PSS", None), "VerifyPSS": ("RSASSA-PSS", None),
                   "SignPKCS1v15": ("RSA", None), "VerifyPKCS1v15": ("RSA", None),
                   "EncryptPKCS1v15": ("RSA", None), "DecryptPKCS1v15": ("RSA", None),
                   "DecryptPKCS1v15SessionKey": ("RSA", None), "EncryptOAEP": ("RSAES-OAEP", None),
                   "DecryptOAEP": ("RSAES-OAEP", None)},
    "crypto/ecdsa": {"GenerateKey": ("ECDSA", "curve@0"), "Sign": ("ECDSA", None), "SignASN1": ("ECDSA", None),
                     "Verify": ("ECDSA", None), "VerifyASN1": ("ECDSA", None),
                     "ParseRawPrivateKey": ("ECDSA", "curve@0"), "ParseUncompressedPublicKey": ("ECDSA", "curve@0")},
    "crypto/elliptic": {"GenerateKey": ("ECDSA", "curve@0"), "Marshal": ("ECDSA", "curve@0")},
    "crypto/ed25519": {"GenerateKey": ("Ed25519", None), "Sign": ("Ed25519", None), "Verify": ("Ed25519", None),
                       "VerifyWithOptions": ("Ed25519", None), "NewKeyFromSeed": ("Ed25519", None)},
    "crypto/ecdh": {"X25519": ("X25519", None), "P256": ("ECDH-P256", None), "P384": ("ECDH-P384", None),
                    "P521": ("ECDH-P521", None)},
    "crypto/dsa": {"GenerateParameters": ("DSA", "dsa@2"), "GenerateKey": ("DSA", None), "Sign": ("DSA", None),
                   "Verify": ("DSA", None)},
    "crypto/mlkem": {f"{verb}{n}": (f"ML-KEM-{n}", None) for n in (768, 1024)
                     for verb in ("GenerateKey", "NewDecapsulationKey", "NewEncapsulationKey")},
    "crypto/aes": {"NewCipher": ("AES", None)},
    "crypto/des": {"NewCipher": ("DES", None), "NewTripleDESCipher": ("3DES", None)},
    "crypto/rc4": {"NewCipher": ("RC4", None)},
    "crypto/cipher": {"NewGCM": ("GCM", "mode"), "NewGCMWithNonceSize": ("GCM", "mode"),
                      "NewGCMWithTagSize": ("GCM", "mode"), "NewGCMWithRandomNonce": ("GCM", "mode"),
                      "NewCTR": ("CTR", "mode"), "NewCBCEncrypter": ("CBC", "mode"),
                      "NewCBCDecrypter": ("CBC", "mode"), "NewCFBEncrypter": ("CFB", "mode"),
                      "NewCFBDecrypter": ("CFB", "mode"), "NewOFB": ("OFB", "mode")},
    "crypto/hmac": {"New": ("HMAC", "hash@0")},
    "crypto/hkdf": {"New": ("HKDF", "hash@0"), "Extract": ("HKDF", "hash@0"), "Expand": ("HKDF", "hash@0"),
                    "Key": ("HKDF", "hash@0")},
    "crypto/pbkdf2": {"Key": ("PBKDF2", None)},
    "golang.org/x/crypto/hkdf": {"New": ("HKDF", "hash@0"), "Extract": ("HKDF", "hash@0"),
                                 "Expand": ("HKDF", "hash@0")},
    "golang.org/x/crypto/pbkdf2": {"Key": ("PBKDF2", None)},
    "golang.org/x/crypto/argon2": {"IDKey": ("Argon2", None), "Key": ("Argon2", None)},
    "golang.org/x/crypto/bcrypt": {"GenerateFromPassword": ("bcrypt", None),
                                   "CompareHashAndPassword": ("bcrypt", None)},
    "golang.org/x/crypto/scrypt": {"Key": ("scrypt", None)},
    "golang.org/x/crypto/blake2b": {"New256": ("BLAKE2b-256", None), "Sum256": ("BLAKE2b-256", None),
                                    "New512": ("BLAKE2b-512", None), "Sum512": ("BLAKE2b-512", None),
                                    "New": ("BLAKE2b-512", None)},
    "golang.org/x/crypto/blake2s": {"New256": ("BLAKE2s-256", None), "Sum256": ("BLAKE2s-256", None)},
    "golang.org/x/crypto/blowfish": {"NewCipher": ("Blowfish", None), "NewSaltedCipher": ("Blowfish", None)},
    "golang.org/x/crypto/twofish": {"NewCipher": ("Twofish", None)},
    "golang.org/x/crypto/cast5": {"NewCipher": ("CAST5", None)},
    "golang.org/x/crypto/chacha20": {"NewUnauthenticatedCipher": ("ChaCha20", None)},
    "golang.org/x/crypto/chacha20poly1305": {"New": ("ChaCha20-Poly1305", None), "NewX": ("XChaCha20-Poly1305", None)},
    "golang.org/x/crypto/curve25519": {"X25519": ("X25519", None), "ScalarMult": ("X25519", None),
                                       "ScalarBaseMult": ("X25519", None)},
    "golang.org/x/crypto/ed25519": {"GenerateKey": ("Ed25519", None), "Sign": ("Ed25519", None),
                                    "Verify": ("Ed25519", None), "NewKeyFromSeed": ("Ed25519", None)},
    "golang.org/x/crypto/md4": {"New": ("MD4", None)},
    "golang.org/x/crypto/ripemd160": {"New": ("RIPEMD-160", None)},
    "golang.org/x/crypto/salsa20": {"XORKeyStream": ("Salsa20", None)},
    "golang.org/x/crypto/poly1305": {"Sum": ("Poly1305", None), "New": ("Poly1305", None),
                                     "Verify": ("Poly1305", None)},
    "golang.org/x/crypto/nacl/box": {v: ("X25519", None) for v in (
        "GenerateKey", "Seal", "Open", "Precompute", "SealAnonymous", "OpenAnonymous", "SealAfterPrecomputation")},
    "golang.org/x/crypto/nacl/secretbox": {"Seal": ("XSalsa20-Poly1305", None), "Open": ("XSalsa20-Poly1305", None)},
    "golang.org/x/crypto/nacl/sign": {"GenerateKey": ("Ed25519", None), "Sign": ("Ed25519", None),
                                      "Open": ("Ed25519", None)},
    "golang.org/x/crypto/sha3": {},
}
#: Other import paths whose calls resolve by the catalogue (``md5.Sum``, ``sha3.New256``, circl's ``kyber768``…).
_GO_CRYPTO_PATH = re.compile(r"(?:^|/)(?:crypto|circl)(?:/|$)")
#: ``golang.org/x/crypto/ssh`` config fields that list algorithm names.
_GO_SSH_FIELDS = ("KeyExchanges", "Ciphers", "MACs", "HostKeyAlgorithms")
_GO_DSA_SIZES = re.compile(r"L(\d+)N\d+$")


def _go_imports(f: _File, root: Any) -> None:
    """Package name → import path of every crypto import of the file."""
    for decl in root.named_children:
        if decl.type != "import_declaration":
            continue
        specs = [decl] + [n for n in decl.named_children if n.type == "import_spec_list"]
        for holder in specs:
            for spec in holder.named_children:
                if spec.type != "import_spec":
                    continue
                path_node = spec.child_by_field_name("path")
                name_node = spec.child_by_field_name("name")
                if path_node is None:
                    continue
                path = f.text(path_node).strip('"`')
                if not _GO_CRYPTO_PATH.search(path) and path not in _GO_FUNCS:
                    continue
                alias = f.text(name_node) if name_node is not None else path.rsplit("/", 1)[-1]
                if alias not in ("_", "."):
                    f.go_imports[alias] = path


def _go_hash(f: _File, arg: Arg) -> str | None:
    """``sha256.New`` (or ``sha256.New()``, ``func() hash.Hash { … }`` is not read) → ``SHA256``."""
    from pqc.catalogue import find

    text = arg.text.removesuffix("()")
    pkg, _, fn = text.partition(".")
    if pkg not in f.go_imports:
        return None
    alg = find(f"{f.go_imports[pkg].rsplit('/', 1)[-1]}.{fn}")
    return alg.name.replace("SHA-", "SHA") if alg is not None else None


def _go(f: _File, node: Any, callee: str, args: list[Arg], new: bool) -> None:
    from pqc.catalogue import find

    pkg, _, fn = callee.partition(".")
    path = f.go_imports.get(pkg)
    if path is None or not fn or "." in fn:
        return
    entry = _GO_FUNCS.get(path, {}).get(fn)
    if entry is None:
        short = f"{path.rsplit('/', 1)[-1]}.{fn}"
        if find(short) is not None:  # md5.Sum, sha256.New, ecdh.P256, tls.…
            f.hit(short, node)
        elif find(pkg) is not None and "circl" in path:  # circl: kyber768.GenerateKeyPair, mldsa65.Sign
            f.hit(path.rsplit("/", 1)[-1], node)
        return
    raw, how = entry
    bits = curve = None
    if how is not None and how.startswith(("bits@", "curve@", "hash@", "dsa@")):
        kind, _, at = how.partition("@")
        i = int(at)
        a = args[i] if len(args) > i else None
        if a is not None and kind == "bits" and isinstance(a.value, int):
            bits = a.value
        elif a is not None and kind == "curve":
            curve = a.text.split(".")[-1].rstrip("()")
            f.consumed.add(a.node.id)
            inner = a.node.child_by_field_name("function")
            if inner is not None:
                f.consumed.add(inner.id)
        elif a is not None and kind == "hash":
            h = _go_hash(f, a)
            if h is not None:
                raw = f"{raw}-{h}"
        elif a is not None and kind == "dsa":
            m = _GO_DSA_SIZES.search(a.text)
            bits = int(m.group(1)) if m else None
    elif how == "mode":
        base = f.bc_vars.get(args[0].text, "AES") if args else "AES"
        raw = f"{base}-{raw}"
    f.hit(raw, node, bits=bits, curve=curve, usage="key-exchange" if raw == "X25519" else None,
          resolved=not (how or "").startswith("bits@") or bits is not None)
    _go_bind(f, node, raw)


def _go_bind(f: _File, call: Any, raw: str) -> None:
    """``block, err := aes.NewCipher(k)``: remember that ``block`` is AES (for ``cipher.NewGCM(block)``)."""
    parent = call.parent
    if parent is None or parent.type != "expression_list":
        return
    stmt = parent.parent
    if stmt is None or stmt.type not in ("short_var_declaration", "assignment_statement", "var_spec"):
        return
    left = stmt.child_by_field_name("left") or stmt.child_by_field_name("name")
    if left is None:
        return
    first = left.named_children[0] if left.named_children else left
    f.bc_vars[f.text(first)] = raw


#: ``crypto/tls`` version constants (``tls.Config`` MinVersion/MaxVersion) → config protocol words.
_GO_TLS_VERSIONS = {"VersionSSL30": "sslv3", "VersionTLS10": "tlsv1.0", "VersionTLS11": "tlsv1.1",
                    "VersionTLS12": "tlsv1.2", "VersionTLS13": "tlsv1.3"}


def _go_selector(f: _File, node: Any) -> None:
    from pqc.catalogue import find

    text = f.text(node)
    pkg, _, name = text.partition(".")
    if f.go_imports.get(pkg) == "crypto/x509":
        spelling = _go_x509(name)
        if spelling is not None:
            f.hit(spelling, node, usage="signature")
        return
    if f.go_imports.get(pkg) != "crypto/tls":
        return
    version = _GO_TLS_VERSIONS.get(name)
    if version is not None:
        f.hit(text, node, protocol=version)
        return
    if not name.startswith("Version") and find(f"tls.{name}") is not None:
        f.hit(f"tls.{name}", node, usage="key-exchange" if "MLKEM" in name or "Curve" in name or name == "X25519"
              else "cipher-suite")


_GO_X509_EC = re.compile(r"^(ECDSA|DSA)WithSHA(\d+)$")


def _go_x509(name: str) -> str | None:
    """``x509.SHA256WithRSA`` / ``ECDSAWithSHA384`` / ``SHA256WithRSAPSS`` / ``PureEd25519`` → catalogue spelling."""
    from pqc.catalogue import find

    m = _GO_X509_EC.match(name)
    spelling = f"SHA{m.group(2)}with{m.group(1)}" if m else name.replace("WithRSAPSS", "withRSA/PSS")
    spelling = {"PureEd25519": "Ed25519"}.get(spelling, spelling)
    return spelling if find(spelling) is not None and spelling[0].isupper() else None


def _go_ssh_strings(f: _File, node: Any) -> None:
    """Algorithm names listed in an x/crypto/ssh config field (``KeyExchanges: []string{…}``)."""
    from pqc.catalogue import find

    if node.type == "keyed_element":
        key = node.named_children[0] if node.named_children else None
        listed = node.named_children[1] if len(node.named_children) > 1 else None
    else:  # assignment_statement
        key = node.child_by_field_name("left")
        listed = node.child_by_field_name("right")
    if key is None or listed is None or not f.text(key).endswith(_GO_SSH_FIELDS):
        return
    stack = [listed]
    while stack:
        n = stack.pop()
        if n.type == "interpreted_string_literal":
            value = f.text(n).strip('"')
            if find(value) is not None:
                f.hit(value, n, usage="key-exchange" if f.text(key).endswith("KeyExchanges") else None)
            continue
        stack.extend(n.named_children)


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


def _js_more(f: _File, node: Any, callee: str, args: list[Arg]) -> bool:
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


def _js(f: _File, node: Any, callee: str, args: list[Arg], new: bool) -> None:
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


def _c_bind(f: _File, call: Any, h: _Hit) -> None:
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


def _c_more(f: _File, node: Any, callee: str, args: list[Arg]) -> bool:
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


def _c(f: _File, node: Any, callee: str, args: list[Arg], new: bool) -> None:

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


def _cs_member(f: _File, node: Any) -> None:
    text = re.sub(r"\s+", "", f.text(node))
    key = ".".join(text.rsplit(".", 2)[-2:])
    if key in _CS_PROTOCOLS:
        f.hit(key, node, protocol=_CS_PROTOCOLS[key])
    elif key in _CS_MEMBERS:
        f.hit(_CS_MEMBERS[key], node)


def _csharp(f: _File, node: Any, callee: str, args: list[Arg], new: bool) -> None:
    last = callee.rsplit(".", 1)[-1]
    if new and _bc(f, node):  # BouncyCastle.NET: the Java API in Pascal case
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


_RULES: dict[str, Callable[[_File, Any, str, list[Arg], bool], None]] = {
    "java": _java, "go": _go, "javascript": _js, "typescript": _js, "tsx": _js, "c": _c, "cpp": _c,
    "csharp": _csharp}


def _trigger_table() -> dict[str, frozenset[str] | None]:
    """Per language, identifiers of which every finding of :data:`_RULES` needs at least one, verbatim, in the
    file (a rule compares the callee's last name, a class name or a dotted head with these). ``None``: no
    such set. Go: every finding names a package imported from a path holding ``crypto`` or ``circl``."""
    from inventory.sources import code_regex

    fallback = code_regex.TRIGGER_WORDS  # the regex fallback used when a grammar is missing
    js = {*_NODE_STRING_ARG0, _JS_HMAC, *_JS_KEYPAIR, *_JS_PBKDF2, _JS_DH, _JS_SUBTLE, *_NODE_MORE, *_JOSE_ALG_AT,
          *_JOSE_HEADER, *_FORGE, *_FORGE_CIPHER, "md.md5", "md.sha1", "md.sha256", "md.sha384", "md.sha512",
          *(c.split(".")[0] for c in _JS_JWT_CALLS)}
    c = {_C_PREFIX, *_C_CALLEES}
    table: dict[str, frozenset[str] | None] = {
        "java": frozenset({*_JAVA_GET_WORDS, _JAVA_EC_SPEC, *java_api.trigger_words(), *_JAVA_SPECS,
                           *_JSSE_SETTERS, *(fallback - {_JAVA_GET})}),
        # a Go finding needs an imported crypto package: its quoted import path holds one of these
        "go": frozenset({'"crypto/', "`crypto/", "/crypto/", "circl/"} | fallback),
        "javascript": frozenset(js | fallback),
        "c": frozenset(c | fallback),
        "csharp": frozenset({*_CS_CREATE, *_CS_NEW, *_CS_ML, *_CS_PROTOCOLS, *_CS_MEMBERS, "HKDF",
                             *java_api.trigger_words()} | fallback),
    }
    table["typescript"] = table["tsx"] = table["javascript"]
    table["cpp"] = table["c"]
    assert set(table) == set(_RULES)
    return table


@cache
def trigger_words(lang: str) -> frozenset[str] | None:
    """See :func:`_trigger_table`; ``None`` for a language without a finite trigger set. Without the language's
    grammar the regular-expression fallback scans the file, so its words count too."""
    words = _trigger_table()[lang]
    try:
        parser_for(lang)
    except ImportError:
        from inventory.sources import code_regex

        return None if words is None else words | code_regex.TRIGGER_WORDS
    return words


def _callee(f: _File, node: Any) -> str:
    if node.type == "method_invocation":
        obj = node.child_by_field_name("object")
        name = node.child_by_field_name("name")
        base = re.sub(r"\s+", "", f.text(obj)) + "." if obj is not None else ""
        return base + (f.text(name) if name is not None else "")
    fn = (node.child_by_field_name("function") or node.child_by_field_name("type")
          or node.child_by_field_name("constructor"))
    if fn is None:
        return ""
    return re.sub(r"\s+", "", f.text(fn))


@cache
def _callee_filter(lang: str) -> re.Pattern[str] | None:
    """Words of which a callee must hold one for a rule of ``lang`` to report the call: the trigger words (each
    rule compares its callee with them) and, for Java, ``init`` (``g.initialize(2048)`` refines an earlier hit)."""
    words = _trigger_table()[lang]
    if words is None or lang == "go":
        return None
    words = words | ({"init"} if lang == "java" else set())
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


def scan_tree(path: str, src: bytes, lang: str) -> list[Finding]:
    parser = parser_for(lang)
    tree = parser.parse(src)
    f = _File(lang, src)
    f.root = tree.root_node
    if lang == "go":
        _go_imports(f, tree.root_node)
        if not f.go_imports:
            return []  # every Go rule names an imported crypto package
    rule = _RULES[lang]
    wanted = _callee_filter(lang)
    # pre-order, so that outer calls can consume inner argument nodes
    for n in _nodes(lang, tree.root_node, _WALK_KINDS, _call_spans(lang, src)):
        t = n.type
        if n.id not in f.consumed:
            if t in _CALL_TYPES or t in _NEW_TYPES:
                callee = _callee(f, n)
                if lang == "go" and callee.partition(".")[0] not in f.go_imports:
                    continue
                if wanted is not None and not wanted.search(callee):
                    continue  # no rule of the language can report a call whose callee names none of its words
                rule(f, n, callee, f.args(n), t in _NEW_TYPES)
            elif t == "member_access_expression" and lang == "csharp":
                _cs_member(f, n)
            elif t == "field_access" and lang == "java":
                _java_field(f, n)
            elif t in ("keyed_element", "assignment_statement") and lang == "go":
                _go_ssh_strings(f, n)
            elif t == "selector_expression" and lang == "go":
                parent = n.parent
                if not (parent is not None and parent.type == "call_expression"
                        and parent.child_by_field_name("function") == n):
                    _go_selector(f, n)
    if not f.hits:
        return []
    lines = src.decode("utf-8", "replace").splitlines()
    out = []
    for h in f.hits:
        row, col = h.node.start_point
        ctx = lines[row].strip()[:200] if row < len(lines) else ""
        if h.protocol is not None:
            out.append(Finding(raw=h.raw, asset_type=AssetType.PROTOCOL, source=lang,
                               location=Location(path, row + 1, col + 1), confidence=0.9, usage="protocol",
                               context=ctx, details={"id": f"{lang}:{h.protocol}", "protocol": h.protocol}))
            continue
        out.append(Finding(raw=h.raw, asset_type=AssetType.ALGORITHM, source=lang, location=Location(path, row + 1,
                           col + 1), confidence=0.9 if h.resolved else 0.7, key_bits=h.bits, curve=h.curve,
                           usage=h.usage, context=ctx))
    return out


def scan(path: str, src: bytes, lang: str) -> list[Finding]:
    """Findings of one source file in ``lang``; regex fallback (confidence 0.5) if the grammar is missing."""
    try:
        parser_for(lang)
    except ImportError:
        from inventory.sources import code_regex

        return code_regex.scan(path, src.decode("utf-8", "replace"), lang)
    return scan_tree(path, src, lang)
