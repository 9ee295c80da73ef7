"""Certificates and keys: PEM, DER, PKCS#7, PKCS#12, OpenSSH keys, ``authorized_keys``, ``known_hosts``, JWK/JWKS.

Parsing is :mod:`cryptography`'s (X.509 per RFC 5280; ML-DSA keys and certificates per
draft-ietf-lamps-dilithium-certificates; ML-KEM keys per FIPS 203 / draft-ietf-lamps-kyber-certificates).
Findings: one ``certificate`` per certificate (id = SHA-256 fingerprint), one ``related-crypto-material``
per key (id = SHA-256 of the SubjectPublicKeyInfo), and ``algorithm`` findings for every key and
signature algorithm they use, all at the line of the PEM block (or line 1 for DER).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import UTC
from typing import Any

from cryptography import x509
from cryptography.exceptions import InternalError, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from inventory.errors import MalformedInputError
from inventory.model import AssetType, Finding, Location
from pqc.catalogue import decode_oid

SOURCE = "certificate"
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----\r?\n(.*?)-----END \1-----", re.S)
_SSH_KEY_TYPES = ("ssh-rsa", "ssh-dss", "ssh-ed25519", "ssh-ed448", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                  "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
                  "ssh-mldsa65", "ssh-mldsa87", "ssh-mldsa44")
_SSH_LINE = re.compile(r"(?:^|\s)(" + "|".join(re.escape(t) for t in _SSH_KEY_TYPES)
                       + r"|[a-z0-9-]+-cert-v01@openssh\.com)\s+([A-Za-z0-9+/=]{16,})")

#: What ``cryptography`` raises for bytes that are not what they claim: a version outside X.509's three, an
#: extension twice, a general name of an unknown type, a key or algorithm it does not implement, and OpenSSL's
#: own refusal of a key body it cannot decode (``InternalError``: an Ed25519 PKCS#8 key whose private key is
#: wrapped in more than one OCTET STRING) or its OpenSSH loader's ``NotImplementedError`` ("Need uncompressed
#: point": an ECDSA key whose private section holds a point not in the 0x04 form).
PARSE_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm, InternalError, NotImplementedError,
                x509.InvalidVersion, x509.DuplicateExtension, x509.UnsupportedGeneralNameType)

KEY_SUFFIXES = (".pem", ".crt", ".cer", ".der", ".key", ".pub", ".p7b", ".p7c", ".p12", ".pfx", ".jwk", ".jwks",
                ".csr", ".p8")
KEY_NAMES = ("authorized_keys", "authorized_keys2", "known_hosts", "id_rsa", "id_ecdsa", "id_ed25519", "id_dsa")


def key_facts(key: Any) -> tuple[str, int | None, str | None]:
    """(algorithm spelling, key size in bits, curve) of a ``cryptography`` public or private key."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return "ECDSA", key.curve.key_size, key.curve.name
    kind = type(key).__name__.replace("PublicKey", "").replace("PrivateKey", "").lstrip("_")
    if kind == "RSA":
        return "RSA", key.key_size, None
    if kind == "EllipticCurve":
        return "ECDSA", key.curve.key_size, key.curve.name
    if kind in ("DSA", "DH"):
        return kind, key.key_size, None
    if kind.startswith("MLDSA"):
        return "ML-DSA-" + kind[5:], None, None
    if kind.startswith("MLKEM"):
        return "ML-KEM-" + kind[5:], None, None
    return kind, None, None


def _spki_id(public_key: Any) -> str:
    try:
        der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return "unknown"
    return hashlib.sha256(der).hexdigest()


def _key_findings(key: Any, loc: Location, kind: str, fmt: str, source: str, context: str) -> list[Finding]:
    public = key.public_key() if hasattr(key, "public_key") and kind == "private-key" else key
    raw, bits, curve = key_facts(key)
    spki = _spki_id(public)
    # the pair's identifier: a private key and every certificate or public key file holding its public half
    # share it (a key without a SubjectPublicKeyInfo encoding is its own, by location)
    ident = "key:" + (spki if spki != "unknown" else hashlib.sha256(f"{loc.uri}:{loc.line}".encode()).hexdigest())
    details = {"id": ident, "kind": kind, "format": fmt, "key_bits": bits, "curve": curve}
    material = Finding(raw=raw, asset_type=AssetType.MATERIAL, source=source, location=loc, confidence=1.0,
                       key_bits=bits, curve=curve, context=context, details=details)
    alg = Finding(raw=raw, asset_type=AssetType.ALGORITHM, source=source, location=loc, confidence=1.0,
                  key_bits=bits, curve=curve, usage="signature" if "DSA" in raw or raw.startswith("Ed") else None,
                  context=context)
    return [material, alg]


def _chain_role(cert: x509.Certificate) -> str:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bc.ca
    except (x509.ExtensionNotFound, x509.DuplicateExtension, ValueError):
        is_ca = False  # extensions unreadable: the certificate is still reported, as a non-CA
    if cert.subject == cert.issuer:
        return "root" if is_ca else "self-signed"
    return "intermediate" if is_ca else "leaf"


def certificate_findings(cert: x509.Certificate, loc: Location, fmt: str, source: str = SOURCE,
                         network_facing: bool = False) -> list[Finding]:
    """Findings for one certificate: the certificate, its key, its key and signature algorithms."""
    sig_oid = cert.signature_algorithm_oid.dotted_string
    sig_name = cert.signature_algorithm_oid._name if cert.signature_algorithm_oid._name != "Unknown OID" else sig_oid
    try:
        public = cert.public_key()
        key_raw, bits, curve = key_facts(public)
    except (UnsupportedAlgorithm, ValueError):
        public = None
        key_raw, bits, curve = cert.public_key_algorithm_oid.dotted_string, None, None
    fingerprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    subject = cert.subject.rfc4514_string()
    details = {
        "id": "cert:" + fingerprint,
        "subject": subject,
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_valid_before": cert.not_valid_before_utc.astimezone(UTC).isoformat(),
        "not_valid_after": cert.not_valid_after_utc.astimezone(UTC).isoformat(),
        "signature_algorithm": sig_name,
        "signature_algorithm_oid": sig_oid,
        "public_key_algorithm": key_raw,
        "public_key_algorithm_oid": cert.public_key_algorithm_oid.dotted_string,
        "key_bits": bits,
        "curve": curve,
        "chain_role": _chain_role(cert),
        "format": fmt,
    }
    context = f"{details['chain_role']} certificate {subject}"
    cert_finding = Finding(raw=subject or fingerprint[:16], asset_type=AssetType.CERTIFICATE, source=source,
                           location=loc, confidence=1.0, network_facing=network_facing, context=context,
                           details=details, related=[sig_oid])
    out = [cert_finding,
           Finding(raw=sig_oid, asset_type=AssetType.ALGORITHM, source=source, location=loc, confidence=1.0,
                   usage="signature", network_facing=network_facing, context=f"signature of {subject}",
                   details={"spelling": sig_name})]
    if public is not None:
        keys = _key_findings(public, loc, "public-key", fmt, source, f"key of {subject}")
        for f in keys:
            f.network_facing = network_facing
        out.extend(keys)
        cert_finding.related.append(keys[0].details["id"])
    else:
        out.append(Finding(raw=key_raw, asset_type=AssetType.ALGORITHM, source=source, location=loc,
                           confidence=1.0, context=f"key of {subject}"))
    return out


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _load_private(der_or_pem: bytes, pem: bool, passwords: tuple[bytes | None, ...]) -> Any:
    last: Exception | None = None
    for pw in passwords:
        try:
            if pem:
                return serialization.load_pem_private_key(der_or_pem, pw)
            return serialization.load_der_private_key(der_or_pem, pw)
        except TypeError as exc:  # encrypted, no password / password given to unencrypted key
            last = exc
        except ValueError as exc:
            last = exc
    raise ValueError(str(last) if last else "no password matched")


_QSHIFT_PRIVATE, _QSHIFT_PUBLIC = "QSHIFT PRIVATE KEY", "QSHIFT PUBLIC KEY"
_QSHIFT_MAGIC = b"qshift-key-v1\x00"


def _qshift_key(path: str, body: bytes, loc: Location, label: str) -> list[Finding]:
    """qshift's own PEM format (``pqc.keys``: ``"qshift-key-v1" 0x00 algorithm 0x00 raw``) for X-Wing,
    X25519MLKEM768 and the ML-DSA-65 + Ed25519 composite. The private key (``name``) and its public key
    (``name.pub``, written beside it by ``write_keypair``) are one asset."""
    import base64
    import binascii

    try:
        raw = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"base64: {exc}") from None
    if not raw.startswith(_QSHIFT_MAGIC) or b"\x00" not in raw[len(_QSHIFT_MAGIC):]:
        raise ValueError("not a qshift-key-v1 body")
    name, _, key = raw[len(_QSHIFT_MAGIC):].partition(b"\x00")
    alg = name.decode("ascii", "replace")
    kind = "private-key" if label == _QSHIFT_PRIVATE else "public-key"
    stem = path[:-4] if path.endswith(".pub") else path
    details = {"id": "key:qshift:" + hashlib.sha256(stem.encode()).hexdigest()[:32], "kind": kind,
               "format": "qshift-key-v1", "key_bytes": len(key)}
    context = f"qshift {kind.replace('-', ' ')} ({alg})"
    return [Finding(raw=alg, asset_type=AssetType.MATERIAL, source=SOURCE, location=loc, confidence=1.0,
                    context=context, details=details),
            Finding(raw=alg, asset_type=AssetType.ALGORITHM, source=SOURCE, location=loc, confidence=1.0,
                    usage="signature" if "DSA" in alg else "key-exchange", context=context)]


def _pem_blocks(path: str, data: bytes, passwords: tuple[bytes | None, ...]) -> list[Finding]:
    out: list[Finding] = []
    for m in _PEM_BLOCK.finditer(data):
        label = m.group(1).decode()
        block = m.group(0)
        loc = Location(path, _line_of(data, m.start()), 1)
        try:
            if label in ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"):
                out += certificate_findings(x509.load_pem_x509_certificate(block), loc, "PEM")
            elif label == "PKCS7":
                for c in pkcs7.load_pem_pkcs7_certificates(block):
                    out += certificate_findings(c, loc, "PKCS#7")
            elif label == "PUBLIC KEY":
                out += _key_findings(serialization.load_pem_public_key(block), loc, "public-key", "PEM", SOURCE,
                                     "public key")
            elif label == "RSA PUBLIC KEY":
                out += _key_findings(serialization.load_pem_public_key(block), loc, "public-key", "PKCS#1", SOURCE,
                                     "public key")
            elif label == "OPENSSH PRIVATE KEY":
                key = _ssh_private(block, passwords)
                out += _key_findings(key, loc, "private-key", "OpenSSH", SOURCE, "OpenSSH private key")
            elif label in (_QSHIFT_PRIVATE, _QSHIFT_PUBLIC):
                out += _qshift_key(path, m.group(2), loc, label)
            elif label == "ENCRYPTED PRIVATE KEY":
                try:  # with the passwords the user gave; without one that opens it, still an (encrypted) key
                    key = _load_private(block, True, tuple(p for p in passwords if p is not None) or (None,))
                except PARSE_ERRORS:
                    out.append(Finding(raw="encrypted private key", asset_type=AssetType.MATERIAL, source=SOURCE,
                                       location=loc, confidence=0.5, context="PKCS#8 encrypted private key",
                                       details={"id": "encrypted-key:" + hashlib.sha256(block).hexdigest(),
                                                "kind": "private-key", "format": "PKCS#8 (encrypted)"}))
                    continue
                out += _key_findings(key, loc, "private-key", "PEM " + label, SOURCE, label.lower())
            elif label.endswith("PRIVATE KEY"):
                try:
                    key = _load_private(block, True, passwords)
                except PARSE_ERRORS as exc:
                    oid = pkcs8_algorithm_oid(m.group(2)) if label == "PRIVATE KEY" else None
                    if oid is None:
                        raise
                    out += _oid_only_key(oid, loc, "private-key", f"PKCS#8 not loadable: {str(exc)[:80]}")
                    continue
                out += _key_findings(key, loc, "private-key", "PEM " + label, SOURCE, label.lower())
            elif label == "CERTIFICATE REQUEST":
                csr = x509.load_pem_x509_csr(block)
                out += _key_findings(csr.public_key(), loc, "public-key", "PKCS#10", SOURCE, "CSR key")
        except PARSE_ERRORS as exc:
            raise MalformedInputError(f"{path}:{loc.line}", f"PEM block {label}: {exc}") from None
    return out


def _der_header(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content length) of the DER TLV at ``pos`` (X.690 §8.1)."""
    tag = data[pos]
    first = data[pos + 1]
    if first < 0x80:
        return tag, pos + 2, first
    n = first & 0x7F
    if n == 0 or n > 4:
        raise ValueError("unsupported DER length")
    return tag, pos + 2 + n, int.from_bytes(data[pos + 2:pos + 2 + n], "big")


def pkcs8_algorithm_oid(b64_body: bytes) -> str | None:
    """The AlgorithmIdentifier OID of a PKCS#8 PrivateKeyInfo (RFC 5958 §2), or ``None`` if unreadable."""
    try:
        der = base64.b64decode(b"".join(b64_body.split()), validate=False)
        tag, pos, _ = _der_header(der, 0)            # PrivateKeyInfo SEQUENCE
        tag, start, length = _der_header(der, pos)   # version INTEGER
        tag, pos, _ = _der_header(der, start + length)  # AlgorithmIdentifier SEQUENCE
        tag, start, length = _der_header(der, pos)   # algorithm OID
        if tag != 0x06:
            return None
        return decode_oid(der[start:start + length])  # MalformedOidError is a ValueError
    except (ValueError, IndexError, binascii.Error):
        return None


def _oid_only_key(oid: str, loc: Location, kind: str, note: str) -> list[Finding]:
    ident = f"key:{loc.uri}:{loc.line}"
    return [Finding(raw=oid, asset_type=AssetType.MATERIAL, source=SOURCE, location=loc, confidence=0.8,
                    context=note, details={"id": ident, "kind": kind, "format": "PKCS#8", "note": note}),
            Finding(raw=oid, asset_type=AssetType.ALGORITHM, source=SOURCE, location=loc, confidence=0.8,
                    context=note)]


def _ssh_private(block: bytes, passwords: tuple[bytes | None, ...]) -> Any:
    last: Exception | None = None
    for pw in passwords:
        try:
            return serialization.load_ssh_private_key(block, pw)
        except PARSE_ERRORS as exc:
            last = exc
    raise ValueError(str(last))


def _ssh_public_lines(path: str, text: str) -> list[Finding]:
    out: list[Finding] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = _SSH_LINE.search(s)
        if not m:
            continue
        ktype, blob = m.group(1), m.group(2)
        loc = Location(path, lineno, m.start(1) + 1 + (len(line) - len(line.lstrip())))
        try:
            key = serialization.load_ssh_public_key(f"{ktype} {blob}".encode())
            out += _key_findings(key, loc, "public-key", "OpenSSH", SOURCE, f"{ktype} key")
        except (*PARSE_ERRORS, binascii.Error):
            # a key type cryptography does not load (e.g. PQ or certificate types): report the type name
            ident = "key:" + hashlib.sha256(blob.encode()).hexdigest()
            out.append(Finding(raw=ktype, asset_type=AssetType.MATERIAL, source=SOURCE, location=loc,
                               confidence=0.9, context=f"{ktype} key",
                               details={"id": ident, "kind": "public-key", "format": "OpenSSH"}))
            out.append(Finding(raw=ktype, asset_type=AssetType.ALGORITHM, source=SOURCE, location=loc,
                               confidence=0.9, context=f"{ktype} key"))
    return out


def _b64url_len_bits(value: str) -> int:
    pad = "=" * (-len(value) % 4)
    raw = base64.urlsafe_b64decode(value + pad)
    return len(raw.lstrip(b"\x00")) * 8 if raw else 0


_JWK_CURVES = {"P-256": "P-256", "P-384": "P-384", "P-521": "P-521", "secp256k1": "secp256k1"}


def _jwk(path: str, data: bytes) -> list[Finding]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedInputError(path, f"not JSON: {exc}") from None
    keys = doc.get("keys") if isinstance(doc, dict) and "keys" in doc else [doc]
    if not isinstance(keys, list):
        raise MalformedInputError(path, "JWKS 'keys' is not a list")
    out: list[Finding] = []
    text = data.decode("utf-8", "replace")
    for i, k in enumerate(keys):
        if not isinstance(k, dict) or "kty" not in k:
            continue
        kty = str(k["kty"])
        kid = str(k.get("kid", i))
        idx = text.find(f'"{kid}"') if "kid" in k else -1
        line = text.count("\n", 0, idx) + 1 if idx >= 0 else 1
        loc = Location(path, line, 1)
        try:
            if kty == "RSA":
                raw, bits, curve = "RSA", _b64url_len_bits(str(k["n"])), None
            elif kty == "EC":
                raw, bits, curve = "ECDSA", None, _JWK_CURVES.get(str(k.get("crv")), str(k.get("crv")))
            elif kty == "OKP":
                raw, bits, curve = str(k.get("crv", "Ed25519")), None, None
            elif kty == "oct":
                raw, bits, curve = str(k.get("alg") or "HMAC"), _b64url_len_bits(str(k.get("k", ""))), None
            elif kty == "AKP":  # draft-ietf-cose-dilithium: algorithm key pair (ML-DSA)
                raw, bits, curve = str(k.get("alg", "ML-DSA")), None, None
            else:
                raw, bits, curve = kty, None, None
        except (KeyError, ValueError, binascii.Error) as exc:
            raise MalformedInputError(f"{path}: key {kid}", f"invalid JWK: {exc}") from None
        ident = "jwk:" + hashlib.sha256(json.dumps(k, sort_keys=True).encode()).hexdigest()
        kind = "private-key" if any(p in k for p in ("d", "p", "priv")) or kty == "oct" else "public-key"
        out.append(Finding(raw=raw, asset_type=AssetType.MATERIAL, source=SOURCE, location=loc, confidence=1.0,
                           key_bits=bits if kty != "oct" else None, curve=curve, context=f"JWK {kid}",
                           details={"id": ident, "kind": kind, "format": "JWK", "key_bits": bits, "curve": curve}))
        out.append(Finding(raw=raw, asset_type=AssetType.ALGORITHM, source=SOURCE, location=loc, confidence=1.0,
                           key_bits=bits if kty == "RSA" else None, curve=curve, context=f"JWK {kid}"))
        if "alg" in k and kty != "oct":
            out.append(Finding(raw=str(k["alg"]), asset_type=AssetType.ALGORITHM, source=SOURCE, location=loc,
                               confidence=1.0, usage="signature", context=f"JWK {kid} alg"))
    return out


def _der(path: str, data: bytes, passwords: tuple[bytes | None, ...], suffix: str) -> list[Finding]:
    loc = Location(path, 1, 1)
    if suffix in (".p12", ".pfx"):
        last: Exception | None = None
        for pw in passwords + ((b"",) if b"" not in passwords else ()):
            try:
                bundle = pkcs12.load_pkcs12(data, pw)
                break
            except PARSE_ERRORS as exc:
                last = exc
        else:
            raise MalformedInputError(path, f"PKCS#12: {last} (give the password with --pkcs12-password)")
        out: list[Finding] = []
        if bundle.key is not None:
            out += _key_findings(bundle.key, loc, "private-key", "PKCS#12", SOURCE, "PKCS#12 key")
        if bundle.cert is not None:
            out += certificate_findings(bundle.cert.certificate, loc, "PKCS#12")
        for c in bundle.additional_certs:
            out += certificate_findings(c.certificate, loc, "PKCS#12")
        return out
    attempts = (
        lambda: certificate_findings(x509.load_der_x509_certificate(data), loc, "DER"),
        lambda: [f for c in pkcs7.load_der_pkcs7_certificates(data) for f in certificate_findings(c, loc, "PKCS#7")],
        lambda: _key_findings(_load_private(data, False, passwords), loc, "private-key", "DER", SOURCE, "key"),
        lambda: _key_findings(serialization.load_der_public_key(data), loc, "public-key", "DER", SOURCE, "key"),
    )
    for attempt in attempts:
        try:
            return attempt()
        except PARSE_ERRORS:
            continue
    raise MalformedInputError(path, "DER data is not a certificate, PKCS#7 bundle or key")


def looks_like_key_file(name: str, head: bytes) -> bool:
    """Whether a file (by name or first bytes) is a certificate/key store this module reads."""
    lower = name.lower()
    if lower.endswith(KEY_SUFFIXES) or lower in KEY_NAMES or lower.startswith("id_"):
        return True
    return b"-----BEGIN " in head


#: Paths of third-party trust stores (system CA bundles, certifi, Java cacerts, distro anchors).
_TRUST_STORE = re.compile(r"(?:^|/)(?:cacert\.pem|ca-certificates\.crt|ca-bundle(?:\.trust)?\.crt|tls-ca-bundle\.pem|"
                          r"ca-root-nss\.crt|cert\.pem)$|/certifi/|/etc/ssl/certs/|/usr/share/ca-certificates/|"
                          r"/etc/pki/ca-trust/|/usr/local/share/certs/", re.IGNORECASE)
#: A PEM file with at least this many CA certificates is a trust bundle wherever it lies.
_BUNDLE_MIN = 5


def _mark_trust_anchors(path: str, findings: list[Finding]) -> None:
    """Root/CA certificates of a third-party trust store get ``details["trust_anchor"]``: a dependency to track
    (its vendor migrates it), not a certificate for the scanning team to reissue."""
    certs_ = [f for f in findings if f.asset_type is AssetType.CERTIFICATE]
    cas = [f for f in certs_ if f.details.get("chain_role") in ("root", "intermediate", "ca", "self-signed")]
    if not (_TRUST_STORE.search(path) or len(cas) >= _BUNDLE_MIN):
        return
    for f in cas or certs_:
        f.details["trust_anchor"] = True
        f.details["trust_store"] = path


def scan(path: str, data: bytes, passwords: tuple[bytes | None, ...] = (None,)) -> list[Finding]:
    """All certificate/key findings in one file's bytes; ``path`` is used for locations."""
    lower = path.lower()
    suffix = "." + lower.rsplit(".", 1)[-1] if "." in lower.rsplit("/", 1)[-1] else ""
    if suffix in (".jwk", ".jwks") or (suffix == ".json" and b'"kty"' in data):
        return _jwk(path, data)
    if b"-----BEGIN " in data:
        findings = _pem_blocks(path, data, passwords)
        if b"ssh-" in data or b"ecdsa-sha2" in data:
            findings += _ssh_public_lines(path, data.decode("utf-8", "replace"))
        _mark_trust_anchors(path, findings)
        return findings
    base = lower.rsplit("/", 1)[-1]
    if suffix == ".pub" or base.startswith(("authorized_keys", "known_hosts")):
        return _ssh_public_lines(path, data.decode("utf-8", "replace"))
    if suffix in (".der", ".cer", ".crt", ".p7b", ".p7c", ".p12", ".pfx", ".key", ".p8", ".csr"):
        return _der(path, data, passwords, suffix)
    return []
