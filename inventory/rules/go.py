"""Go rules: the standard library's ``crypto/*`` packages, ``golang.org/x/crypto/*`` and Cloudflare's circl, by
import path (an alias resolves to its path), ``crypto/tls`` and ``crypto/x509`` constants, and the algorithm lists
of ``x/crypto/ssh`` configs. Every finding names an imported crypto package. Grammar ``tree-sitter-go``.
"""

from __future__ import annotations

import re
from typing import Any

from inventory.rules import regex
from inventory.rules.treesitter import Arg, File, Language

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


def _go_imports(f: File, root: Any) -> None:
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
                    f.imports[alias] = path


def _go_hash(f: File, arg: Arg) -> str | None:
    """``sha256.New`` (or ``sha256.New()``, ``func() hash.Hash { … }`` is not read) → ``SHA256``."""
    from pqc.catalogue import find

    text = arg.text.removesuffix("()")
    pkg, _, fn = text.partition(".")
    if pkg not in f.imports:
        return None
    alg = find(f"{f.imports[pkg].rsplit('/', 1)[-1]}.{fn}")
    return alg.name.replace("SHA-", "SHA") if alg is not None else None


def _go(f: File, node: Any, callee: str, args: list[Arg], new: bool) -> None:
    from pqc.catalogue import find

    pkg, _, fn = callee.partition(".")
    path = f.imports.get(pkg)
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
        base = f.objects.get(args[0].text, "AES") if args else "AES"
        raw = f"{base}-{raw}"
    f.hit(raw, node, bits=bits, curve=curve, usage="key-exchange" if raw == "X25519" else None,
          resolved=not (how or "").startswith("bits@") or bits is not None)
    _go_bind(f, node, raw)


def _go_bind(f: File, call: Any, raw: str) -> None:
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
    f.objects[f.text(first)] = raw


#: ``crypto/tls`` version constants (``tls.Config`` MinVersion/MaxVersion) → config protocol words.
_GO_TLS_VERSIONS = {"VersionSSL30": "sslv3", "VersionTLS10": "tlsv1.0", "VersionTLS11": "tlsv1.1",
                    "VersionTLS12": "tlsv1.2", "VersionTLS13": "tlsv1.3"}


def _go_selector(f: File, node: Any) -> None:
    from pqc.catalogue import find

    text = f.text(node)
    pkg, _, name = text.partition(".")
    if f.imports.get(pkg) == "crypto/x509":
        spelling = _go_x509(name)
        if spelling is not None:
            f.hit(spelling, node, usage="signature")
        return
    if f.imports.get(pkg) != "crypto/tls":
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


def _go_ssh_strings(f: File, node: Any) -> None:
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


def _selector(f: File, node: Any) -> None:
    """A package member that is not called (``tls.VersionTLS10``, ``x509.SHA1WithRSA``)."""
    parent = node.parent
    if not (parent is not None and parent.type == "call_expression" and parent.child_by_field_name("function") == node):
        _go_selector(f, node)


def _has_crypto_import(f: File, root: Any) -> bool:
    _go_imports(f, root)
    return bool(f.imports)  # every Go rule names an imported crypto package


#: A Go finding needs an imported crypto package: its quoted import path holds one of these.
TRIGGER_WORDS = frozenset({'"crypto/', "`crypto/", "/crypto/", "circl/"} | regex.TRIGGER_WORDS)
GO = Language("go", ("tree_sitter_go", "language"), _go, TRIGGER_WORDS,
              wants=lambda f, callee: callee.partition(".")[0] in f.imports, prepare=_has_crypto_import,
              members={"keyed_element": _go_ssh_strings, "assignment_statement": _go_ssh_strings,
                       "selector_expression": _selector})
