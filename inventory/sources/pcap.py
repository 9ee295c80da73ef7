"""Packet captures (pcap and pcapng, read with scapy's raw readers): TLS, SSH and IKEv2 handshakes.

Frames are decoded by hand (Ethernet / Linux cooked / loopback / raw IP, IPv4/IPv6, TCP/UDP) for speed;
scapy reads the file formats. TCP payloads are reassembled per direction by sequence number
(out-of-order and retransmitted segments handled; the first :data:`MAX_STREAM_BYTES` of each direction
are kept, which holds any handshake), then parsed as TLS records (RFC 8446 §5.1) or an SSH
identification line + KEXINIT (RFC 4253 §4.2, §7.1). IKEv2 SA payloads (RFC 7296 §3.3; RFC 9370
additional key exchanges) are read from UDP 500/4500. Evidence is ``file:frame N`` of the packet
that carried the first byte of the message.
"""

from __future__ import annotations

import bisect
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

from inventory.errors import MalformedInputError
from inventory.model import AssetType, Finding, Location, Skipped, SourceResult
from inventory.wire import ssh as sshw
from inventory.wire import tls as tlsw

MAX_STREAM_BYTES = 256 * 1024
SOURCE = "pcap"


@dataclass(slots=True)
class _Flow:
    """One direction of a TCP connection: segments keyed by relative sequence number."""

    src: str
    sport: int
    dst: str
    dport: int
    isn: int | None = None
    segments: list[tuple[int, int, bytes]] = field(default_factory=list)  # (seq, frame, payload)
    first_frame: int = 0
    initiator: bool = False


def _is_grease(v: int) -> bool:
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


def _decode_frame(linktype: int, data: bytes) -> tuple[bytes, bytes, int, int, int, int, int, bytes] | None:
    """(src, dst, proto, sport, dport, seq, tcp_flags, payload) of a TCP/UDP frame, or ``None``; addresses are
    the raw 4 or 16 bytes (formatted once per flow by :func:`_addr`, not once per packet)."""
    if linktype == 1:  # Ethernet
        if len(data) < 14:
            return None
        etype = (data[12] << 8) | data[13]
        off = 14
        while etype in (0x8100, 0x88A8) and len(data) >= off + 4:  # VLAN tags
            etype = (data[off + 2] << 8) | data[off + 3]
            off += 4
    elif linktype == 113:  # Linux cooked (SLL)
        if len(data) < 16:
            return None
        etype = (data[14] << 8) | data[15]
        off = 16
    elif linktype == 276:  # SLL2
        if len(data) < 20:
            return None
        etype = (data[0] << 8) | data[1]
        off = 20
    elif linktype == 0:  # BSD loopback
        if len(data) < 4:
            return None
        fam = struct.unpack("<I", data[:4])[0]
        etype = 0x0800 if fam == 2 else 0x86DD
        off = 4
    elif linktype in (101, 12, 228, 229):  # raw IP
        if not data:
            return None
        etype = 0x0800 if data[0] >> 4 == 4 else 0x86DD
        off = 0
    else:
        return None
    if etype == 0x0800:
        if len(data) < off + 20:
            return None
        ihl = (data[off] & 0x0F) * 4
        total = (data[off + 2] << 8) | data[off + 3]
        proto = data[off + 9]
        if (data[off + 6] & 0x1F) or data[off + 7]:  # IP fragment: not reassembled
            return None
        src = data[off + 12:off + 16]
        dst = data[off + 16:off + 20]
        end = min(len(data), off + total) if total else len(data)
        off += ihl
    elif etype == 0x86DD:
        if len(data) < off + 40:
            return None
        proto = data[off + 6]
        plen = (data[off + 4] << 8) | data[off + 5]
        src = data[off + 8:off + 24]
        dst = data[off + 24:off + 40]
        off += 40
        end = min(len(data), off + plen)
    else:
        return None
    if proto == 6:
        if end < off + 20:
            return None
        sport, dport, seq = struct.unpack_from(">HHI", data, off)
        doff = (data[off + 12] >> 4) * 4
        flags = data[off + 13]
        return src, dst, 6, sport, dport, seq, flags, data[off + doff:end]
    if proto == 17:
        if end < off + 8:
            return None
        sport, dport = struct.unpack_from(">HH", data, off)
        return src, dst, 17, sport, dport, 0, 0, data[off + 8:end]
    return None


def _addr(raw: bytes) -> str:
    """Printable IPv4 or IPv6 address of 4 or 16 raw bytes."""
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


def _reassemble(flow: _Flow) -> tuple[bytes, list[tuple[int, int]]]:
    """The contiguous byte stream of a flow from its first byte, and (stream offset, frame) marks."""
    if not flow.segments:
        return b"", []
    base = flow.isn if flow.isn is not None else min(s for s, _, _ in flow.segments)
    segs = sorted((((s - base) & 0xFFFFFFFF), fr, p) for s, fr, p in flow.segments)
    out = bytearray()
    marks: list[tuple[int, int]] = []
    for rel, frame, payload in segs:
        if rel > MAX_STREAM_BYTES:
            break
        if rel > len(out):  # gap: a segment is missing; stop here
            break
        new = payload[len(out) - rel:]
        if new:
            marks.append((len(out), frame))
            out += new
    return bytes(out), marks


def _frame_at(marks: list[tuple[int, int]], offset: int) -> int:
    i = bisect.bisect_right([m[0] for m in marks], offset) - 1
    return marks[max(i, 0)][1] if marks else 0


def _name(kind: str, code: int) -> str:
    from pqc.catalogue import by_tls_cipher_suite, by_tls_group, by_tls_signature_scheme

    fn = {"suite": by_tls_cipher_suite, "group": by_tls_group, "sigalg": by_tls_signature_scheme}[kind]
    alg = fn(code)
    return alg.name if alg else f"TLS {kind} 0x{code:04X}"


class _Analyser:
    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []

    def loc(self, frame: int) -> Location:
        return Location(self.path, frame=frame)

    def alg(self, raw: str, frame: int, usage: str | None, context: str, **details: object) -> None:
        self.findings.append(Finding(raw=raw, asset_type=AssetType.ALGORITHM, source=SOURCE, location=self.loc(frame),
                                     confidence=1.0, usage=usage, network_facing=True, context=context,
                                     details=dict(details)))

    def protocol(self, proto: str, endpoint: str, frame: int, related: list[str], **details: object) -> None:
        d: dict[str, object] = {"id": f"{proto}://{endpoint}", "protocol": proto, "endpoint": endpoint}
        d.update(details)
        self.findings.append(Finding(raw=f"{proto.upper()} {endpoint}", asset_type=AssetType.PROTOCOL, source=SOURCE,
                                     location=self.loc(frame), confidence=1.0, network_facing=True,
                                     context=f"{proto} handshake with {endpoint}", details=d, related=related))

    # --- TLS ---------------------------------------------------------------------------------------
    def tls(self, client: _Flow, server: _Flow | None) -> None:
        endpoint = f"{client.dst}:{client.dport}"
        cstream, cmarks = _reassemble(client)
        what = f"{self.path}: TLS {client.src}:{client.sport}->{endpoint}"
        related: list[str] = []
        details: dict[str, object] = {}
        frame0 = _frame_at(cmarks, 0)
        try:
            msgs, _ = tlsw.handshake_messages(cstream, what)
        except MalformedInputError:
            msgs = []
        for m in msgs:
            if m.msg_type != tlsw.HS_CLIENT_HELLO:
                continue
            frame = _frame_at(cmarks, m.offset)
            frame0 = frame
            ch = tlsw.parse_client_hello(m.body, what + " ClientHello")
            groups = [g for g in ch.supported_groups if not _is_grease(g)]
            suites = [s for s in ch.cipher_suites if not _is_grease(s) and s not in (0x00FF, 0x5600)]
            details["client_versions"] = [tlsw.version_name(v) for v in (ch.supported_versions or [ch.legacy_version])
                                          if not _is_grease(v)]
            details["offered_groups"] = [_name("group", g) for g in groups]
            details["offered_cipher_suites"] = [_name("suite", s) for s in suites]
            details["key_share_groups"] = {_name("group", g): n for g, n in ch.key_shares.items() if not _is_grease(g)}
            if ch.server_name:
                details["server_name"] = ch.server_name
            for g in groups:
                self.alg(_name("group", g), frame, "key-exchange", f"ClientHello offers group 0x{g:04X}",
                         role="offered-by-client", code_point=g)
            for s in suites:
                self.alg(_name("suite", s), frame, "cipher-suite", f"ClientHello offers suite 0x{s:04X}",
                         role="offered-by-client", code_point=s)
            break
        if server is not None:
            sstream, smarks = _reassemble(server)
            try:
                smsgs, _ = tlsw.handshake_messages(sstream, what + " (server)")
            except MalformedInputError:
                smsgs = []
            tls13 = False
            for m in smsgs:
                frame = _frame_at(smarks, m.offset)
                if m.msg_type == tlsw.HS_SERVER_HELLO:
                    sh = tlsw.parse_server_hello(m.body, what + " ServerHello")
                    if sh.retry:
                        details["hello_retry_request"] = _name("group", sh.key_share_group or 0)
                        continue
                    tls13 = sh.version == 0x0304
                    suite = _name("suite", sh.cipher_suite)
                    details["negotiated_version"] = tlsw.version_name(sh.version)
                    details["negotiated_cipher_suite"] = suite
                    related.append(suite)
                    self.alg(suite, frame, "cipher-suite", "ServerHello selects suite", role="negotiated",
                             code_point=sh.cipher_suite)
                    if sh.key_share_group is not None:
                        group = _name("group", sh.key_share_group)
                        details["negotiated_group"] = group
                        related.append(group)
                        self.alg(group, frame, "key-exchange", "ServerHello key_share", role="negotiated",
                                 code_point=sh.key_share_group)
                elif m.msg_type == tlsw.HS_CERTIFICATE and not tls13:
                    from cryptography import x509

                    from inventory.sources.certs import certificate_findings

                    for i, der in enumerate(tlsw.parse_certificate_list(m.body, False, what + " Certificate")):
                        try:
                            cert = x509.load_der_x509_certificate(der)
                        except ValueError as exc:
                            raise MalformedInputError(f"{self.path}:frame {frame}", f"certificate {i}: {exc}") from None
                        found = certificate_findings(cert, self.loc(frame), "TLS Certificate", SOURCE, True)
                        related.append(found[0].details["id"])
                        self.findings.extend(found)
        if details:
            self.protocol("tls", endpoint, frame0, related, **details)

    # --- SSH ---------------------------------------------------------------------------------------
    def ssh(self, client: _Flow, server: _Flow | None) -> None:
        endpoint = f"{client.dst}:{client.dport}"
        sides = {}
        for role, flow in (("client", client), ("server", server)):
            if flow is None:
                continue
            stream, marks = _reassemble(flow)
            banner, off = sshw.split_banner(stream)
            if banner is None:
                continue
            what = f"{self.path}: SSH {role} {flow.src}:{flow.sport}"
            payload = sshw.first_packet_payload(stream, off, what)
            kex = sshw.parse_kexinit(payload, what) if payload and payload[0] == sshw.MSG_KEXINIT else None
            sides[role] = (banner, kex, _frame_at(marks, off))
        if not sides:
            return
        details: dict[str, object] = {}
        related: list[str] = []
        frame0 = min(f for _, _, f in sides.values())
        for role, (banner, kex, frame) in sides.items():
            details[f"{role}_banner"] = banner
            if kex is None:
                continue
            details[f"{role}_kex"] = kex.kex_algorithms
            details[f"{role}_host_keys"] = kex.server_host_key_algorithms
            details[f"{role}_ciphers"] = kex.encryption_client_to_server
            if role == "server":
                for name in kex.kex_algorithms:
                    if not name.startswith(("ext-info", "kex-strict")):
                        self.alg(name, frame, "key-exchange", "server KEXINIT offers", role="offered-by-server")
                for name in kex.server_host_key_algorithms:
                    self.alg(name, frame, "signature", "server KEXINIT host key", role="offered-by-server")
        if "client" in sides and "server" in sides and sides["client"][1] and sides["server"][1]:
            c, s = sides["client"][1], sides["server"][1]
            frame = sides["server"][2]
            chosen = {
                "kex": sshw.negotiate(c.kex_algorithms, s.kex_algorithms),
                "host_key": sshw.negotiate(c.server_host_key_algorithms, s.server_host_key_algorithms),
                "cipher": sshw.negotiate(c.encryption_client_to_server, s.encryption_client_to_server),
                "mac": sshw.negotiate(c.mac_client_to_server, s.mac_client_to_server),
            }
            details["negotiated"] = chosen
            for key, usage in (("kex", "key-exchange"), ("host_key", "signature"), ("cipher", "cipher"),
                               ("mac", "mac")):
                picked = chosen[key]
                if picked:
                    related.append(picked)
                    self.alg(picked, frame, usage, f"negotiated SSH {key}", role="negotiated")
        self.protocol("ssh", endpoint, frame0, related, **details)

    # --- IKEv2 -------------------------------------------------------------------------------------
    def ike(self, payload: bytes, frame: int, endpoint: str) -> None:
        from pqc.catalogue import by_ike_group

        if len(payload) >= 4 and payload[:4] == b"\x00\x00\x00\x00":
            payload = payload[4:]  # non-ESP marker on 4500
        if len(payload) < 28 or payload[17] >> 4 != 2:
            return
        next_payload = payload[16]
        pos = 28
        proposals: list[dict[str, list[str]]] = []
        while next_payload != 0 and pos + 4 <= len(payload):
            plen = struct.unpack_from(">H", payload, pos + 2)[0]
            if plen < 4 or pos + plen > len(payload):
                raise MalformedInputError(f"{self.path}:frame {frame}", f"IKE payload length {plen} at {pos}")
            if next_payload == 33:  # SA
                proposals += _ike_proposals(payload[pos + 4:pos + plen], f"{self.path}:frame {frame}")
            next_payload = payload[pos]
            pos += plen
        if not proposals:
            return
        related = []
        for prop in proposals:
            for ttype, names in prop.items():
                for n in names:
                    usage = "key-exchange" if ttype in ("KE", "ADDKE") else None
                    if n not in related:
                        related.append(n)
                        self.alg(n, frame, usage, f"IKEv2 SA proposal {ttype}", role="offered")
        _ = by_ike_group
        self.protocol("ikev2", endpoint, frame, related, proposals=proposals)


_IKE_ENCR = {3: "3DES-CBC", 12: "AES-CBC", 13: "AES-CTR", 20: "AES-GCM", 19: "AES-GCM", 18: "AES-GCM",
             28: "ChaCha20-Poly1305"}
_IKE_PRF = {1: "HMAC-MD5", 2: "HMAC-SHA1", 4: "AES-CMAC", 5: "HMAC-SHA256", 6: "HMAC-SHA384", 7: "HMAC-SHA512"}
_IKE_INTEG = {1: "HMAC-MD5", 2: "HMAC-SHA1", 12: "HMAC-SHA256", 13: "HMAC-SHA384", 14: "HMAC-SHA512"}


def _ike_proposals(sa: bytes, where: str) -> list[dict[str, list[str]]]:
    from pqc.catalogue import by_ike_group

    out = []
    pos = 0
    while pos + 8 <= len(sa):
        last = sa[pos]
        plen = struct.unpack_from(">H", sa, pos + 2)[0]
        spi_size, ntrans = sa[pos + 6], sa[pos + 7]
        if plen < 8 or pos + plen > len(sa):
            raise MalformedInputError(where, f"IKE proposal length {plen} at {pos}")
        tpos = pos + 8 + spi_size
        prop: dict[str, list[str]] = {}
        for _ in range(ntrans):
            if tpos + 8 > pos + plen:
                raise MalformedInputError(where, "IKE transform runs past its proposal")
            tlen = struct.unpack_from(">H", sa, tpos + 2)[0]
            ttype = sa[tpos + 4]
            tid = struct.unpack_from(">H", sa, tpos + 6)[0]
            keylen = None
            if tlen >= 12 and sa[tpos + 8:tpos + 10] == b"\x80\x0e":
                keylen = struct.unpack_from(">H", sa, tpos + 10)[0]
            if ttype == 1:
                name = _IKE_ENCR.get(tid, f"IKE ENCR {tid}")
                if keylen and name.startswith("AES-"):
                    name = f"AES-{keylen}-{name[4:]}"
                prop.setdefault("ENCR", []).append(name)
            elif ttype == 2:
                prop.setdefault("PRF", []).append(_IKE_PRF.get(tid, f"IKE PRF {tid}"))
            elif ttype == 3:
                prop.setdefault("INTEG", []).append(_IKE_INTEG.get(tid, f"IKE INTEG {tid}"))
            elif ttype == 4 or 6 <= ttype <= 12:
                alg = by_ike_group(tid)
                prop.setdefault("KE" if ttype == 4 else "ADDKE", []).append(alg.name if alg else f"IKE KE {tid}")
            if tlen < 8:
                raise MalformedInputError(where, f"IKE transform length {tlen}")
            tpos += tlen
        out.append(prop)
        pos += plen
        if last == 0:
            break
    return out


def scan(path: str | Path) -> SourceResult:
    """Analyse one capture file. An unreadable or non-capture file raises :class:`MalformedInputError`."""
    from scapy.error import Scapy_Exception
    from scapy.utils import RawPcapReader

    p = str(path)
    result = SourceResult()
    try:
        reader = RawPcapReader(p)
    except (Scapy_Exception, OSError, EOFError, struct.error, ValueError) as exc:
        raise MalformedInputError(p, f"not a pcap/pcapng capture: {exc}") from None
    flows: dict[tuple[bytes, int, bytes, int], _Flow] = {}
    analyser = _Analyser(p)
    frame = 0
    default_link = getattr(reader, "linktype", 1)
    packets = iter(reader)
    try:
        while True:
            try:
                data, meta = next(packets)
            except StopIteration:
                break
            except (struct.error, ValueError, Scapy_Exception, EOFError) as exc:
                result.skipped.append(Skipped(p, f"truncated capture after frame {frame}: {exc}"))
                break
            frame += 1
            link = getattr(meta, "linktype", None)
            decoded = _decode_frame(default_link if link is None else link, data)
            if decoded is None:
                continue
            src, dst, proto, sport, dport, seq, flags, payload = decoded
            if proto == 17:
                if sport in (500, 4500) or dport in (500, 4500):
                    try:
                        analyser.ike(payload, frame, f"{_addr(dst)}:{dport}" if dport in (500, 4500)
                                     else f"{_addr(src)}:{sport}")
                    except MalformedInputError as exc:
                        result.skipped.append(Skipped(p, f"frame {frame}: {exc.reason}"))
                continue
            key = (src, sport, dst, dport)
            flow = flows.get(key)
            if flow is None:
                flow = flows[key] = _Flow(_addr(src), sport, _addr(dst), dport, first_frame=frame)
            if flags & 0x02:  # SYN
                flow.isn = (seq + 1) & 0xFFFFFFFF
                flow.initiator = not flags & 0x10
            if payload and len(flow.segments) < 512:
                if flow.isn is not None and ((seq - flow.isn) & 0xFFFFFFFF) > MAX_STREAM_BYTES:
                    continue  # past the bytes reassembly keeps: bulk data after the handshake
                flow.segments.append((seq, frame, payload))
    except OSError as exc:
        result.skipped.append(Skipped(p, f"read error after frame {frame}: {exc}"))
    finally:
        reader.close()
    result.stats.packets = frame
    seen: set[tuple[bytes, int, bytes, int]] = set()
    for key, flow in flows.items():
        if key in seen or not flow.segments:
            continue
        rkey = (key[2], key[3], key[0], key[1])
        reverse = flows.get(rkey)
        seen.add(key)
        if reverse is not None:
            seen.add(rkey)
        head = _reassemble(flow)[0][:6]
        rhead = _reassemble(reverse)[0][:6] if reverse is not None else b""
        try:
            if head[:1] == b"\x16" and head[1:2] == b"\x03" and len(head) >= 6 and head[5] == 1:
                analyser.tls(flow, reverse)
            elif rhead[:1] == b"\x16" and rhead[1:2] == b"\x03" and len(rhead) >= 6 and rhead[5] == 1:
                analyser.tls(reverse, flow)  # type: ignore[arg-type]
            elif head.startswith(b"SSH-") or rhead.startswith(b"SSH-"):
                client, server = flow, reverse
                if reverse is not None and (reverse.initiator or (not flow.initiator and flow.sport == 22)):
                    client, server = reverse, flow
                analyser.ssh(client, server)
        except MalformedInputError as exc:
            result.skipped.append(Skipped(p, f"{exc.where}: {exc.reason}"))
    result.findings = analyser.findings
    return result
