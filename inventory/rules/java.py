"""Java rules: JCA/JCE factories (``Cipher.getInstance("AES/GCM/NoPadding")``, ``KeyPairGenerator`` with a later
``initialize(2048)``), key and parameter specs, JSSE protocol and suite setters, and the BouncyCastle lightweight
API (:mod:`inventory.rules.bouncycastle`). Tree-sitter grammar ``tree-sitter-java``.
"""

from __future__ import annotations

from typing import Any

from inventory.rules import bouncycastle, regex
from inventory.rules.engine import Hit
from inventory.rules.treesitter import Arg, File, Language, callee_holds

_JAVA_FACTORIES = {"Cipher", "MessageDigest", "Signature", "KeyPairGenerator", "KeyGenerator", "KeyAgreement",
                   "Mac", "SecretKeyFactory", "KeyFactory", "KEM", "AlgorithmParameterGenerator",
                   "AlgorithmParameters"}
_JAVA_GET = "getInstance"
_JAVA_EC_SPEC = "ECGenParameterSpec"

#: ``SSLContext.getInstance`` protocol names that pin a version (``"TLS"`` does not).
_JAVA_PROTOCOLS = {"sslv3": "sslv3", "tlsv1": "tlsv1.0", "tlsv1.1": "tlsv1.1", "tlsv1.2": "tlsv1.2",
                   "tlsv1.3": "tlsv1.3", "sslv2hello": "sslv2"}
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


def _java_strings(f: File, node: Any) -> list[tuple[str, Any]]:
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


def _java_spec(f: File, node: Any, cls: str, args: list[Arg]) -> None:
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


def _enclosing_init_target(f: File, node: Any) -> Hit | None:
    """The earlier hit whose variable an enclosing ``v.initialize(…)`` / ``v.init(…)`` call configures."""
    parent = node.parent
    while parent is not None and parent.type not in ("method_invocation",):
        parent = parent.parent
    if parent is None:
        return None
    obj = parent.child_by_field_name("object")
    return f.vars.get(f.text(obj)) if obj is not None else None


def _java(f: File, node: Any, callee: str, args: list[Arg], new: bool) -> None:
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
        bouncycastle.report(f, node)
        return
    parts = callee.split(".")
    if last == bouncycastle.NEW_INSTANCE and bouncycastle.report(f, node):
        return
    if callee in bouncycastle.STATIC:
        f.hit(bouncycastle.STATIC[callee], node)
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


def _java_field(f: File, node: Any) -> None:
    """``MLKEMParameters.ml_kem_768`` and the like: the parameter set the code chooses."""
    name = bouncycastle.param_field(f.text(node))
    if name is not None:
        f.hit(name, node)


#: ``getInstance`` counts only on these classes: the prefilter looks for ``Class.getInstance`` as written (a
#: call spelt with white space or a line break before the dot is the one form it can miss).
_JAVA_GET_WORDS = tuple(f"{c}.{_JAVA_GET}" for c in (*_JAVA_FACTORIES, "SSLContext"))


#: Words of which every Java finding needs one, verbatim (the regex fallback's too, without ``getInstance`` alone).
TRIGGER_WORDS = frozenset({*_JAVA_GET_WORDS, _JAVA_EC_SPEC, *bouncycastle.trigger_words(), *_JAVA_SPECS,
                           *_JSSE_SETTERS, *(regex.TRIGGER_WORDS - {_JAVA_GET})})
JAVA = Language("java", ("tree_sitter_java", "language"), _java, TRIGGER_WORDS,
                wants=callee_holds(TRIGGER_WORDS | {"init"}),  # ``g.initialize(2048)`` refines an earlier hit
                members={"field_access": _java_field})
