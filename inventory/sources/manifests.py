"""Dependency manifests: ``requirements*.txt``, ``pyproject.toml``, ``package.json``, ``go.mod``, ``pom.xml``,
``Cargo.toml``. Reports the cryptographic libraries a project depends on and whether the declared
version supports ML-KEM / ML-DSA.

:data:`CRYPTO_LIBRARIES` holds, per ecosystem, the first release of each library that ships ML-KEM and
ML-DSA (from the projects' changelogs; ``None`` = not in any release). A dependency whose constraint
does not pin a version at or above that release is reported as ``pq_support: "no"`` or ``"unknown"``.
"""

from __future__ import annotations

import json
import re
import tomllib
import xml.etree.ElementTree as ET
from typing import Any

from inventory.errors import MalformedInputError
from inventory.model import AssetType, Finding, Location

#: ecosystem → library → (first version with ML-KEM and ML-DSA, or None; note)
CRYPTO_LIBRARIES: dict[str, dict[str, tuple[str | None, str]]] = {
    "pypi": {
        "cryptography": ("47.0", "ML-KEM and ML-DSA via OpenSSL 3.5"),
        "pycryptodome": (None, "no ML-KEM/ML-DSA"),
        "pycryptodomex": (None, "no ML-KEM/ML-DSA"),
        "pyopenssl": (None, "follows cryptography; no PQ API"),
        "liboqs-python": ("0.10", "liboqs ML-KEM/ML-DSA"),
        "oqs": ("0.10", "liboqs ML-KEM/ML-DSA"),
        "paramiko": (None, "no mlkem768x25519-sha256"),
        "pyjwt": (None, "no ML-DSA JWS"),
        "python-jose": (None, "no ML-DSA JWS"),
        "rsa": (None, "RSA only"),
        "ecdsa": (None, "ECDSA only"),
        "pynacl": (None, "Curve25519/Ed25519 only"),
        "kyber-py": ("1.0", "ML-KEM (pure Python, not constant time)"),
        "dilithium-py": ("1.1", "ML-DSA (pure Python, not constant time)"),
        "pqcrypto": ("0.1", "PQClean bindings"),
    },
    "npm": {
        "node-forge": (None, "no PQ"), "jsonwebtoken": (None, "no ML-DSA JWS"), "jose": (None, "no ML-DSA"),
        "crypto-js": (None, "no PQ"), "elliptic": (None, "ECDSA only"), "tweetnacl": (None, "no PQ"),
        "@noble/post-quantum": ("0.1.0", "ML-KEM, ML-DSA, SLH-DSA"), "@noble/curves": (None, "no PQ"),
        "openpgp": (None, "no PQ"), "bcrypt": (None, "password hash"),
    },
    "go": {
        "golang.org/x/crypto": (None, "no ML-KEM (in std crypto/mlkem since Go 1.24)"),
        "github.com/cloudflare/circl": ("1.3.0", "ML-KEM, ML-DSA"),
        "github.com/open-quantum-safe/liboqs-go": ("0.10.0", "liboqs bindings"),
        "github.com/golang-jwt/jwt/v5": (None, "no ML-DSA JWS"),
        "filippo.io/mlkem768": ("0.1.0", "ML-KEM-768"),
    },
    "maven": {
        "org.bouncycastle:bcprov-jdk18on": ("1.79", "ML-KEM, ML-DSA"),
        "org.bouncycastle:bcprov-jdk15on": (None, "pre-standard Kyber/Dilithium only"),
        "org.bouncycastle:bcpkix-jdk18on": ("1.79", "ML-DSA certificates"),
        "io.jsonwebtoken:jjwt-api": (None, "no ML-DSA JWS"),
        "com.nimbusds:nimbus-jose-jwt": (None, "no ML-DSA JWS"),
    },
    "cargo": {
        "ring": (None, "no ML-KEM"), "rustls": ("0.23.18", "X25519MLKEM768 via aws-lc-rs"),
        "aws-lc-rs": ("1.10.0", "ML-KEM"), "openssl": (None, "depends on system OpenSSL"),
        "ml-kem": ("0.2.0", "RustCrypto ML-KEM"), "ml-dsa": ("0.0.4", "RustCrypto ML-DSA"),
        "rsa": (None, "RSA only"), "p256": (None, "ECDSA only"), "ed25519-dalek": (None, "no PQ"),
        "x25519-dalek": (None, "no PQ"), "pqcrypto": ("0.17.0", "PQClean bindings"),
        "oqs": ("0.9.0", "liboqs bindings"),
    },
}

_VERSION = re.compile(r"(\d+(?:\.\d+)*)")


def _vtuple(v: str) -> tuple[int, ...]:
    """``"47"`` and ``"47.0"`` compare equal: trailing zero components are dropped."""
    parts = [int(x) for x in v.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def pq_support(ecosystem: str, name: str, constraint: str) -> tuple[str, str]:
    """("yes" | "no" | "unknown", note) for a dependency constraint such as ``>=47`` or ``^1.79``."""
    lib = CRYPTO_LIBRARIES[ecosystem][name]
    first, note = lib
    if first is None:
        return "no", note
    m = _VERSION.search(constraint or "")
    if not m:
        return "unknown", note + f" (needs ≥ {first}; version not pinned)"
    if constraint.strip().startswith(("<", "~<")):
        return "unknown", note + f" (needs ≥ {first})"
    ok = _vtuple(m.group(1)) >= _vtuple(first)
    c = constraint.strip()
    if not ok and c.startswith(">") and "<" not in c and "," not in c:
        # a bare lower bound (``>=42``) lets the resolver pick a release with PQ support without requiring one
        return "unknown", note + f" (allows ≥ {first} but does not require it)"
    return ("yes" if ok else "no"), note + f" (needs ≥ {first})"


def _finding(path: str, line: int, col: int, ecosystem: str, name: str, constraint: str) -> Finding:
    support, note = pq_support(ecosystem, name, constraint)
    return Finding(raw=name, asset_type=AssetType.LIBRARY, source="manifest", location=Location(path, line, col),
                   confidence=1.0, context=f"{name} {constraint}".strip(),
                   details={"id": f"{ecosystem}/{name}", "ecosystem": ecosystem, "version": constraint,
                            "pq_support": support, "note": note})


def _locate(text: str, needle: str, start: int = 0) -> tuple[int, int]:
    idx = text.find(needle, start)
    if idx < 0:
        return 1, 1
    line = text.count("\n", 0, idx) + 1
    col = idx - (text.rfind("\n", 0, idx) + 1) + 1
    return line, col


def _norm_py(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def scan_requirements(path: str, text: str) -> list[Finding]:
    out = []
    libs = CRYPTO_LIBRARIES["pypi"]
    for lineno, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;#]*)", line)
        if not m or line.lstrip().startswith(("#", "-")):
            continue
        name = _norm_py(m.group(1))
        if name in libs:
            out.append(_finding(path, lineno, m.start(1) + 1, "pypi", name, m.group(3).strip()))
    return out


def _table(doc: object, *keys: str) -> dict[str, Any]:
    """``doc[k1][k2]…`` when each step is a table (a dict), else ``{}``: a manifest may hold any type anywhere."""
    for k in keys:
        doc = doc.get(k) if isinstance(doc, dict) else None
    return doc if isinstance(doc, dict) else {}


def _version_of(spec: object) -> str:
    """A dependency's version from ``"1.2"`` or ``{version = "1.2", …}`` (anything else: its text)."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        return str(spec.get("version", ""))
    return str(spec)


def _load_toml(path: str, text: str) -> dict[str, Any]:
    """A TOML manifest as a dict; :class:`MalformedInputError` naming ``path`` and the parser's position."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MalformedInputError(path, f"invalid TOML: {exc}") from None


def scan_pyproject(path: str, text: str) -> list[Finding]:
    doc = _load_toml(path, text)
    project = _table(doc, "project")
    listed = project.get("dependencies")
    deps: list[object] = list(listed) if isinstance(listed, list) else []
    for extra in _table(project, "optional-dependencies").values():
        deps += list(extra) if isinstance(extra, list) else []
    poetry = _table(doc, "tool", "poetry", "dependencies")
    out = []
    libs = CRYPTO_LIBRARIES["pypi"]
    for spec in deps:
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)", str(spec))
        if m and _norm_py(m.group(1)) in libs:
            line, col = _locate(text, f'"{spec}')
            out.append(_finding(path, line, col + 1, "pypi", _norm_py(m.group(1)), m.group(3).strip()))
    for name, spec in poetry.items():
        if _norm_py(name) in libs:
            line, col = _locate(text, name)
            out.append(_finding(path, line, col, "pypi", _norm_py(name), _version_of(spec)))
    return out


def scan_package_json(path: str, text: str) -> list[Finding]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise MalformedInputError(path, f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise MalformedInputError(path, "package.json is not an object")
    out = []
    for section in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        for name, ver in _table(doc, section).items():
            if name in CRYPTO_LIBRARIES["npm"]:
                line, col = _locate(text, f'"{name}"')
                out.append(_finding(path, line, col, "npm", name, str(ver)))
    return out


def scan_go_mod(path: str, text: str) -> list[Finding]:
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*(?:require\s+)?([a-z0-9.\-]+\.[a-z]+/[^\s]+)\s+(v[^\s]+)", line)
        if m and m.group(1) in CRYPTO_LIBRARIES["go"]:
            out.append(_finding(path, lineno, m.start(1) + 1, "go", m.group(1), m.group(2).lstrip("v")))
    return out


def scan_pom(path: str, text: str) -> list[Finding]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise MalformedInputError(path, f"invalid XML: {exc}") from None
    out = []
    for dep in root.iter():
        if not dep.tag.endswith("dependency"):
            continue
        vals = {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in dep}
        coord = f"{vals.get('groupId', '')}:{vals.get('artifactId', '')}"
        if coord in CRYPTO_LIBRARIES["maven"]:
            line, col = _locate(text, f"<artifactId>{vals.get('artifactId')}</artifactId>")
            out.append(_finding(path, line, col, "maven", coord, vals.get("version", "")))
    return out


def scan_cargo(path: str, text: str) -> list[Finding]:
    doc = _load_toml(path, text)
    out = []
    for section in ("dependencies", "dev-dependencies", "build-dependencies"):
        for name, spec in _table(doc, section).items():
            if name in CRYPTO_LIBRARIES["cargo"]:
                version = _version_of(spec)
                m = re.search(rf"^[ \t]*{re.escape(name)}\s*=", text, re.M)
                line = text.count("\n", 0, m.start()) + 1 if m else 1
                out.append(_finding(path, line, 1, "cargo", name, version))
    return out


SCANNERS = {"requirements": scan_requirements, "pyproject.toml": scan_pyproject, "package.json": scan_package_json,
            "go.mod": scan_go_mod, "pom.xml": scan_pom, "Cargo.toml": scan_cargo}


def kind_of(name: str) -> str | None:
    base = name.rsplit("/", 1)[-1]
    if base in SCANNERS:
        return base
    if base.startswith("requirements") and base.endswith(".txt"):
        return "requirements"
    return None


def scan(path: str, text: str, kind: str) -> list[Finding]:
    return SCANNERS[kind](path, text)
