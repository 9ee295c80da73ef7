"""Test helpers: loopback capture with scapy, a self-signed TLS certificate, scripted SSH peers."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from inventory.wire import ssh as sshw

SERVER_KEX = ["mlkem768x25519-sha256", "curve25519-sha256", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"]
SERVER_HOSTKEYS = ["ssh-ed25519", "rsa-sha2-512"]
CLIENT_KEX = ["sntrup761x25519-sha512", "mlkem768x25519-sha256", "curve25519-sha256"]
CIPHERS = ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"]
MACS = ["hmac-sha2-256-etm@openssh.com"]


def can_sniff() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and Path("/sys/class/net/lo").exists()


def _tcp_port_filter(port: int) -> list[tuple[int, int, int, int]]:
    """Classic BPF (Ethernet, IPv4, TCP, either port == ``port``), as ``tcpdump -dd`` would emit it.

    Attached in the kernel so that other loopback traffic on a busy machine cannot overflow the socket.
    """
    return [(0x28, 0, 0, 12), (0x15, 0, 10, 0x0800), (0x30, 0, 0, 23), (0x15, 0, 8, 6), (0x28, 0, 0, 20),
            (0x45, 6, 0, 0x1FFF), (0xB1, 0, 0, 14), (0x48, 0, 0, 14), (0x15, 2, 0, port), (0x48, 0, 0, 16),
            (0x15, 0, 1, port), (0x06, 0, 0, 262144), (0x06, 0, 0, 0)]


def _attach(sock: socket.socket, program: list[tuple[int, int, int, int]]) -> None:
    import ctypes

    class SockFilter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                    ("k", ctypes.c_uint32)]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(SockFilter))]

    insns = (SockFilter * len(program))(*[SockFilter(*i) for i in program])
    fprog = SockFprog(len(program), insns)
    sock.setsockopt(socket.SOL_SOCKET, 26, bytes(ctypes.string_at(ctypes.addressof(fprog), ctypes.sizeof(fprog))))


@contextlib.contextmanager
def capture(port: int) -> Iterator[list]:
    """Capture TCP packets to/from ``port`` on the loopback interface with scapy; the list fills on exit."""
    from scapy.all import TCP, AsyncSniffer
    from scapy.arch.linux import L2ListenSocket

    listen = L2ListenSocket(iface="lo")
    listen.ins.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    _attach(listen.ins, _tcp_port_filter(port))
    # drain anything queued before the filter was attached
    listen.ins.setblocking(False)
    with contextlib.suppress(BlockingIOError, OSError):
        while listen.ins.recv(65536):
            pass
    listen.ins.setblocking(True)
    ready = threading.Event()
    sniffer = AsyncSniffer(opened_socket=listen, store=True, started_callback=ready.set,
                           lfilter=lambda p: TCP in p and port in (p[TCP].sport, p[TCP].dport))
    sniffer.start()
    if not ready.wait(10):
        raise RuntimeError("loopback sniffer did not start")
    time.sleep(0.2)
    packets: list = []
    try:
        yield packets
    finally:
        time.sleep(0.3)
        packets.extend(sniffer.stop() or [])
        listen.close()


def self_signed_rsa(tmp: Path, cn: str = "localhost", bits: int = 2048) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=9))
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / f"{cn}.crt", tmp / f"{cn}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


class _LoopbackServer:
    """A TCP server on 127.0.0.1 (an ephemeral port) accepting in a daemon thread; :meth:`handle` serves each
    connection. Subclasses set what ``handle`` needs before calling ``__init__`` (the thread starts in it)."""

    backlog = 16

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(self.backlog)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop = True
        self.thread.join(2)
        self.sock.close()


class TlsServer(_LoopbackServer):
    """A Python ``ssl`` TLS server on loopback answering each connection with one handshake."""

    backlog = 64

    def __init__(self, cert: Path, key: Path, max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.maximum_version = max_version
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass  # a client that hangs up mid-handshake (the scanner does, once it has what it needs)
        finally:
            conn.close()


def tls_client(port: int, max_version: ssl.TLSVersion) -> str:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = max_version
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, ctx.wrap_socket(raw) as tls:
        tls.sendall(b"x")
        return tls.version() or ""


class SshServer(_LoopbackServer):
    """A scripted SSH server: sends its identification line and KEXINIT, reads the client's, closes."""

    def __init__(self, kex: list[str] | None = None, hostkeys: list[str] | None = None) -> None:
        self.kex = kex or SERVER_KEX
        self.hostkeys = hostkeys or SERVER_HOSTKEYS
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(3)
            try:
                conn.sendall(b"SSH-2.0-OpenSSH_9.9 scripted\r\n")
                conn.sendall(sshw.packet(sshw.build_kexinit(self.kex, self.hostkeys, CIPHERS, MACS)))
                conn.recv(65536)
                time.sleep(0.1)
            except OSError:
                pass  # the scanner closes once it has read the server's KEXINIT


def ssh_client(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"SSH-2.0-scripted_client\r\n")
        buf = b""
        while b"\n" not in buf:
            buf += s.recv(4096)
        s.sendall(sshw.packet(sshw.build_kexinit(CLIENT_KEX, SERVER_HOSTKEYS, CIPHERS, MACS)))
        time.sleep(0.2)


def ike_sa_init(spi: bytes) -> bytes:
    """An IKEv2 IKE_SA_INIT request (RFC 7296 §3.1, §3.3) with initiator SPI ``spi`` (8 bytes) and one SA proposal:
    ENCR AES-GCM-16 with a 256-bit key, PRF HMAC-SHA2-256, KE X25519 (group 31), and ADDKE1 ML-KEM-768 (RFC 9370
    transform type 6, id 36)."""
    def transform(last: bool, ttype: int, tid: int, keylen: int | None = None) -> bytes:
        attrs = struct.pack(">HH", 0x800E, keylen) if keylen else b""
        return struct.pack(">BBHBBH", 0 if last else 3, 0, 8 + len(attrs), ttype, 0, tid) + attrs

    ts = [transform(False, 1, 20, 256), transform(False, 2, 5), transform(False, 4, 31), transform(True, 6, 36)]
    body = b"".join(ts)
    proposal = struct.pack(">BBHBBBB", 0, 0, 8 + len(body), 1, 1, 0, len(ts)) + body
    sa = struct.pack(">BBH", 0, 0, 4 + len(proposal)) + proposal
    return spi + b"\x00" * 8 + bytes([33, 0x20, 34, 0x08]) + b"\x00" * 4 + struct.pack(">I", 28 + len(sa)) + sa
