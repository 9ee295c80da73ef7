"""Live SSH endpoints: the server's identification string and SSH_MSG_KEXINIT name-lists (RFC 4253 §4.2,
§7.1), read over a plain TCP connection. Reports whether ``mlkem768x25519-sha256`` /
``sntrup761x25519-sha512`` are offered and the host-key types. No authentication is attempted.
"""

from __future__ import annotations

import asyncio

from inventory.errors import EndpointError, MalformedInputError
from inventory.model import AssetType, Finding, Location, SourceResult
from inventory.sources.endpoints import connection, probe_each
from inventory.wire import ssh as sshw

CLIENT_BANNER = b"SSH-2.0-qshift_inventory\r\n"
PQ_KEX = ("mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com",
          "mlkem768nistp256-sha256", "mlkem1024nistp384-sha384")


async def read_kexinit(host: str, port: int, timeout: float = 5.0) -> tuple[str, sshw.KexInit]:
    """(server banner, server KEXINIT) of ``host:port``."""
    where = f"ssh://{host}:{port}"
    try:
        async with connection(host, port, timeout, where) as (reader, writer):
            writer.write(CLIENT_BANNER)
            await writer.drain()
            buf = b""
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                banner, off = sshw.split_banner(buf)
                if banner is not None:
                    payload = sshw.first_packet_payload(buf, off, where)
                    if payload is not None:
                        if payload[:1] != bytes([sshw.MSG_KEXINIT]):
                            raise EndpointError(where, f"first packet is message {payload[0]}, not KEXINIT")
                        return banner, sshw.parse_kexinit(payload, where + " KEXINIT")
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise EndpointError(where, "timed out waiting for the server KEXINIT")
                try:
                    chunk = await asyncio.wait_for(reader.read(65536), remaining)
                except TimeoutError:
                    raise EndpointError(where, "timed out waiting for the server KEXINIT") from None
                if not chunk:
                    raise EndpointError(where, "connection closed before the server KEXINIT")
                buf += chunk
                if len(buf) > 512 * 1024:
                    raise EndpointError(where, "no KEXINIT in the first 512 KiB")
    except MalformedInputError as exc:
        raise EndpointError(where, exc.reason) from None


async def probe(host: str, port: int, timeout: float = 5.0) -> SourceResult:
    banner, kex = await read_kexinit(host, port, timeout)
    endpoint = f"{host}:{port}"
    loc = Location(f"ssh://{endpoint}")
    result = SourceResult()
    result.stats.endpoints = 1
    related = []
    for name in kex.kex_algorithms:
        if name.startswith(("ext-info-", "kex-strict-")):
            continue
        related.append(name)
        result.findings.append(Finding(raw=name, asset_type=AssetType.ALGORITHM, source="ssh", location=loc,
                                       confidence=1.0, usage="key-exchange", network_facing=True,
                                       context="server KEXINIT kex_algorithms"))
    for name in kex.server_host_key_algorithms:
        related.append(name)
        result.findings.append(Finding(raw=name, asset_type=AssetType.ALGORITHM, source="ssh", location=loc,
                                       confidence=1.0, usage="signature", network_facing=True,
                                       context="server KEXINIT server_host_key_algorithms"))
    for name in dict.fromkeys(kex.encryption_server_to_client + kex.mac_server_to_client):
        if name == "none":
            continue
        related.append(name)
        result.findings.append(Finding(raw=name, asset_type=AssetType.ALGORITHM, source="ssh", location=loc,
                                       confidence=1.0, usage="cipher" if name in kex.encryption_server_to_client
                                       else "mac", network_facing=True, context="server KEXINIT"))
    details = {"id": f"ssh://{endpoint}", "protocol": "ssh", "endpoint": endpoint, "banner": banner,
               "kex_algorithms": kex.kex_algorithms, "host_key_algorithms": kex.server_host_key_algorithms,
               "ciphers": kex.encryption_server_to_client, "macs": kex.mac_server_to_client,
               "pq_kex_offered": [k for k in kex.kex_algorithms if k in PQ_KEX]}
    result.findings.append(Finding(raw=f"SSH {endpoint}", asset_type=AssetType.PROTOCOL, source="ssh", location=loc,
                                   confidence=1.0, network_facing=True, context=banner, details=details,
                                   related=related))
    return result


async def probe_many(endpoints: list[tuple[str, int]], timeout: float = 5.0, concurrency: int = 32) -> SourceResult:
    """Probe SSH endpoints concurrently; unreachable ones are reported as skipped with the reason."""
    return await probe_each(probe, endpoints, timeout, concurrency)
