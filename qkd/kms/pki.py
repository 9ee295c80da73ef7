"""Test/deployment PKI for KMEs and SAEs, made with ``cryptography`` (ECDSA P-256, SHA-256).

Identity convention (used by the KME to authenticate callers): **the subject Common Name (CN) of a
certificate is the identity** - a node ID for a KME certificate, an SAE ID for an SAE certificate. The
same ID is also written as a SAN URI ``urn:qshift:kme:<id>`` or ``urn:qshift:sae:<id>`` for readers that
prefer SANs. KME certificates carry serverAuth and clientAuth (a KME is a client of its relay peers) and
SANs ``DNS:localhost``, ``IP:127.0.0.1`` plus any hosts given, and ``DNS:<id>.kme.qshift.invalid``
(:func:`kme_dns_name`): a KME calling a peer verifies that name in TLS, so a node answering at a peer's
address with any other KME's certificate fails the handshake. SAE certificates carry clientAuth only.
Private keys are written with mode 0600.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=825)


def kme_dns_name(node_id: str) -> str:
    """The DNS SAN that names KME ``node_id`` in its certificate (``<id>.kme.qshift.invalid``, lower case)."""
    return f"{node_id.lower()}.kme.qshift.invalid"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qshift test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str = "qshift test CA") -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA certificate and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def issue(ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, identity: str, *, kme: bool,
          hosts: tuple[str, ...] = ("localhost", "127.0.0.1")) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A leaf certificate whose subject CN is ``identity`` (node ID if ``kme`` else SAE ID)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(
        f"urn:qshift:{'kme' if kme else 'sae'}:{identity}")]
    eku = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if kme:
        eku.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
        sans.append(x509.DNSName(kme_dns_name(identity)))
        for host in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                sans.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder().subject_name(_name(identity)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert, key


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


@dataclass
class PkiFiles:
    """Files of a PKI written by :func:`make_pki`: ``ca`` and, per identity, ``(cert, key)`` paths."""

    directory: Path
    ca: Path
    leaves: dict[str, tuple[Path, Path]] = field(default_factory=dict)

    def cert(self, identity: str) -> Path:
        return self.leaves[identity][0]

    def key(self, identity: str) -> Path:
        return self.leaves[identity][1]

    def server_context(self, node_id: str) -> ssl.SSLContext:
        """TLS server context for KME ``node_id`` requiring client certificates from this CA."""
        return server_ssl_context(self.ca, *self.leaves[node_id])

    def client_context(self, identity: str | None) -> ssl.SSLContext:
        """TLS client context presenting ``identity``'s certificate (``None``: no client certificate)."""
        if identity is None:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca))
            return ctx
        return client_ssl_context(self.ca, *self.leaves[identity])


def make_pki(directory: str | Path, kmes: list[str], saes: list[str], *,
             hosts: tuple[str, ...] = ("localhost", "127.0.0.1"), ca_cn: str = "qshift test CA") -> PkiFiles:
    """Write ``ca.pem`` (+ ``ca.key``), and ``<id>.pem`` / ``<id>.key`` for every KME and SAE ID."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = make_ca(ca_cn)
    (d / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(d / "ca.key", ca_key)
    pki = PkiFiles(d, d / "ca.pem")
    for ident, is_kme in [(k, True) for k in kmes] + [(s, False) for s in saes]:
        cert, key = issue(ca_cert, ca_key, ident, kme=is_kme, hosts=hosts)
        cpath, kpath = d / f"{ident}.pem", d / f"{ident}.key"
        cpath.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(kpath, key)
        pki.leaves[ident] = (cpath, kpath)
    return pki


def server_ssl_context(ca: str | Path, cert: str | Path, key: str | Path) -> ssl.SSLContext:
    """TLS ≥1.2 server context that requires a client certificate issued by ``ca`` (mutual TLS)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def client_ssl_context(ca: str | Path, cert: str | Path, key: str | Path) -> ssl.SSLContext:
    """TLS client context that verifies the server against ``ca`` and presents ``cert``."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def peer_identity(peercert: dict | None) -> str | None:
    """Subject CN of a peer certificate as returned by ``SSLSocket.getpeercert()`` (``None`` if absent)."""
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for attr, value in rdn:
            if attr == "commonName":
                return value
    return None
