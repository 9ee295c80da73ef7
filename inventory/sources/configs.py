"""Server configuration files: OpenSSH ``sshd_config``/``ssh_config``, nginx, Apache httpd, HAProxy,
``openssl.cnf`` and Java ``java.security``.

Each recognised directive yields one finding per algorithm it names, at the directive's line and the
column of the name. Directive semantics: sshd_config(5) ``KexAlgorithms``, ``HostKeyAlgorithms``,
``Ciphers``, ``MACs``; nginx ``ssl_protocols``, ``ssl_ciphers``, ``ssl_ecdh_curve``, ``ssl_conf_command
Groups``; Apache ``SSLProtocol``, ``SSLCipherSuite``, ``SSLOpenSSLConfCmd Curves|Groups``; HAProxy
``ssl-default-bind-ciphers``/``-ciphersuites``/``curves``; OpenSSL ``CipherString``, ``Ciphersuites``,
``Groups``/``Curves``, ``MinProtocol``; ``jdk.tls.disabledAlgorithms`` (reported as *disabled*).
"""

from __future__ import annotations

import re

from inventory.errors import MalformedInputError
from inventory.model import AssetType, Finding, Location

SSH_DIRECTIVES = {"kexalgorithms": "key-exchange", "hostkeyalgorithms": "signature", "ciphers": "cipher",
                  "macs": "mac", "pubkeyacceptedalgorithms": "signature", "pubkeyacceptedkeytypes": "signature",
                  "casignaturealgorithms": "signature", "hostbasedacceptedalgorithms": "signature"}
TLS_DIRECTIVES = {
    # nginx
    "ssl_protocols": "protocol", "ssl_ciphers": "cipher-suite", "ssl_ecdh_curve": "key-exchange",
    "proxy_ssl_protocols": "protocol", "proxy_ssl_ciphers": "cipher-suite",
    # apache
    "sslprotocol": "protocol", "sslciphersuite": "cipher-suite", "sslproxyciphersuite": "cipher-suite",
    "sslproxyprotocol": "protocol",
    # haproxy
    "ssl-default-bind-ciphers": "cipher-suite", "ssl-default-bind-ciphersuites": "cipher-suite",
    "ssl-default-server-ciphers": "cipher-suite", "ssl-default-server-ciphersuites": "cipher-suite",
    "ssl-default-bind-curves": "key-exchange", "curves": "key-exchange", "ciphers": "cipher-suite",
    "ciphersuites": "cipher-suite", "ssl-min-ver": "protocol", "ssl-max-ver": "protocol",
    # openssl.cnf system_default section
    "cipherstring": "cipher-suite", "groups": "key-exchange", "minprotocol": "protocol", "maxprotocol": "protocol",
    "signaturealgorithms": "signature",
}
_PROTOCOL_WORDS = {"sslv2", "sslv3", "tlsv1", "tlsv1.0", "tlsv1.1", "tlsv1.2", "tlsv1.3", "all", "tls1", "tls1.1",
                   "tls1.2", "tls1.3", "tlsv1_2", "tlsv1_3"}
_CIPHER_STRING_KEYWORDS = {"high", "medium", "low", "default", "all", "complementofdefault", "export", "null",
                           "anull", "enull", "!anull", "!enull", "@strength", "!md5", "!rc4", "!export", "!des",
                           "!3des", "!psk", "!srp", "!dss", "!camellia", "!aria", "!sha1", "@seclevel=0",
                           "@seclevel=1", "@seclevel=2", "@seclevel=3", "!low", "!medium", "!exp", "kecdhe", "kedh",
                           "krsa", "aecdsa", "arsa", "ecdh", "eecdh", "edh", "aesgcm", "aes", "sha", "sha256",
                           "sha384", "chacha20", "camellia", "aria"}
_TOKEN = re.compile(r"[^\s:,;\"']+")


def _finding(path: str, line: int, col: int, raw: str, usage: str, source: str, context: str,
             network_facing: bool = True, disabled: bool = False) -> Finding:
    kind = AssetType.PROTOCOL if usage == "protocol" else AssetType.ALGORITHM
    details: dict[str, object] = {"directive_usage": usage}
    if kind is AssetType.PROTOCOL:
        details["id"] = f"{source}:{raw.lower()}"
        details["protocol"] = raw
    if disabled:
        details["disabled"] = True
    return Finding(raw=raw, asset_type=kind, source=source, location=Location(path, line, col),
                   confidence=0.95, usage=usage if usage != "cipher-suite" else "cipher-suite",
                   network_facing=network_facing and not disabled, context=context.strip()[:200], details=details)


def _values(line: str, start: int) -> list[tuple[str, int]]:
    """Tokens of a directive value with their 1-based columns."""
    out = []
    for m in _TOKEN.finditer(line, start):
        out.append((m.group(0), m.start() + 1))
    return out


def scan_sshd(path: str, text: str) -> list[Finding]:
    """``sshd_config`` / ``ssh_config``: algorithm lists (a leading ``+``/``-``/``^`` modifies defaults)."""
    out: list[Finding] = []
    source = "ssh_config" if "ssh_config" in path and "sshd" not in path else "sshd_config"
    for lineno, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*([A-Za-z]+)(\s+|\s*=\s*)", line)
        if not m or line.lstrip().startswith("#"):
            continue
        usage = SSH_DIRECTIVES.get(m.group(1).lower())
        if usage is None:
            continue
        for tok, col in _values(line, m.end()):
            if tok.startswith("#"):
                break
            disabled = tok.startswith("-")
            name = tok.lstrip("+-^")
            if name:
                out.append(_finding(path, lineno, col + (len(tok) - len(name)), name, usage, source, line,
                                    disabled=disabled))
    return out


def _tls_tokens(value_tokens: list[tuple[str, int]], usage: str) -> list[tuple[str, int, bool]]:
    out = []
    for tok, col in value_tokens:
        low = tok.lower()
        if usage == "protocol":
            neg = tok.startswith("-") or tok.startswith("!")
            name = tok.lstrip("+-!")
            if name.lower() in _PROTOCOL_WORDS:
                out.append((name, col, neg))
            continue
        if low in _CIPHER_STRING_KEYWORDS or low.startswith("@"):
            continue
        if tok.startswith(("!", "-")):
            continue
        name = tok.lstrip("+")
        if name:
            out.append((name, col + (len(tok) - len(name)), False))
    return out


def scan_tls_config(path: str, text: str, source: str) -> list[Finding]:
    """nginx / Apache / HAProxy / openssl.cnf TLS directives."""
    out: list[Finding] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        m = re.match(r"\s*([A-Za-z][A-Za-z0-9_.-]*)(\s*=\s*|\s+)", line)
        if not m:
            continue
        key = m.group(1).lower()
        start = m.end()
        if key in ("ssl_conf_command", "sslopensslconfcmd"):
            m2 = re.match(r"(Groups|Curves|CipherString|Ciphersuites|SignatureAlgorithms)\s+", line[start:], re.I)
            if not m2:
                continue
            key = m2.group(1).lower()
            key = "groups" if key == "curves" else key
            start += m2.end()
        elif key == "bind" and source == "haproxy":
            for opt in re.finditer(r"\b(ciphers|ciphersuites|curves|ssl-min-ver|ssl-max-ver)\s+(\S+)", line):
                usage = TLS_DIRECTIVES[opt.group(1)]
                for name, col, neg in _tls_tokens(_values(line, opt.start(2)), usage):
                    if col - 1 >= opt.end(2):
                        break
                    out.append(_finding(path, lineno, col, name, usage, source, line, disabled=neg))
            continue
        found_usage = TLS_DIRECTIVES.get(key)
        if found_usage is None:
            continue
        usage = found_usage
        value = line[start:].split("#", 1)[0].rstrip().rstrip(";")
        for name, col, neg in _tls_tokens(_values(value, 0), usage):
            out.append(_finding(path, lineno, col + start, name, usage, source, line, disabled=neg))
    return out


def scan_java_security(path: str, text: str) -> list[Finding]:
    """``java.security``: ``jdk.tls.disabledAlgorithms`` etc. name algorithms that are *disabled*."""
    out: list[Finding] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s*(jdk\.(?:tls|certpath|jar|security\.legacy)\w*\.?\w*Algorithms|jdk\.tls\.namedGroups)"
                     r"\s*=\s*", line)
        if not m:
            i += 1
            continue
        disabled = "disabled" in m.group(1).lower() or "legacy" in m.group(1).lower()
        usage = "key-exchange" if "namedGroups" in m.group(1) else "policy"
        first = i
        segments = [(i, line, m.end())]
        while line.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            line = lines[i]
            segments.append((i, line, 0))
        for idx, seg, start in segments:
            for entry in re.finditer(r"[^,\\]+", seg[start:]):
                tok = entry.group(0).strip()
                if not tok:
                    continue
                name = tok.split()[0]
                if name.lower() in ("include",):
                    continue
                col = start + entry.start() + (len(entry.group(0)) - len(entry.group(0).lstrip())) + 1
                out.append(_finding(path, idx + 1, col, name, usage, "java.security", seg, network_facing=False,
                                    disabled=disabled))
        _ = first
        i += 1
    return out


def kind_of(name: str, text_head: str) -> str | None:
    """Which config dialect a file is, by name then by content, or ``None``."""
    base = name.lower().rsplit("/", 1)[-1]
    if base in ("sshd_config", "ssh_config") or base.endswith((".sshd_config",)) or "/sshd_config.d/" in name:
        return "sshd"
    if base == "java.security":
        return "java.security"
    if base in ("openssl.cnf", "openssl.conf") or base.endswith(".cnf"):
        return "openssl.cnf"
    if base == "haproxy.cfg" or base.endswith(".haproxy.cfg"):
        return "haproxy"
    if base.endswith(".conf") or base in ("nginx.conf", "httpd.conf", "ssl.conf", "apache2.conf"):
        low = text_head.lower()
        if "ssl_ciphers" in low or "ssl_protocols" in low or "ssl_ecdh_curve" in low or "server {" in low:
            return "nginx"
        if "sslciphersuite" in low or "sslprotocol" in low or "<virtualhost" in low:
            return "apache"
        if "kexalgorithms" in low or "hostkeyalgorithms" in low:
            return "sshd"
    return None


def scan(path: str, text: str, kind: str) -> list[Finding]:
    """Findings of one config file of dialect ``kind`` (from :func:`kind_of`)."""
    if "\x00" in text:
        raise MalformedInputError(path, "NUL byte in a text config")
    if kind == "sshd":
        found = scan_sshd(path, text)
    elif kind == "java.security":
        found = scan_java_security(path, text)
    else:
        found = scan_tls_config(path, text, kind)
    # names a config *removes* or *disables* are not in use: they are not assets
    return [f for f in found if not f.details.get("disabled")]
