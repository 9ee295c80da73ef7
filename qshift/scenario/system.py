"""Start the whole system of a scenario on loopback: a KME per node running its ends of the emulated QKD
links, gateways at the two tunnel sites, and a TCP sink service behind the responding gateway.

Everything is the production code started in this process on real sockets, as ``qshift kme serve`` and
``qshift gateway serve`` run it: each KME runs its link ends on the link runtime (``qkd.runtime``) from
its ``[[feeds]]``, over a WebSocket in mutual TLS to the peer KME (through a :class:`ChannelPath` that
the classical-channel faults act on), into its own key intake; relays, ETSI GS QKD 014 and the gateways
follow. State lives in a temporary directory. The handles faults act on are here: :class:`LinkHandle`
(the shared emulated physics, the channel path, the two ends), KME kill and restart.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.config import SiteConfig
from gateway.service import GatewayService, create_gateway_app, service_of
from pqc.keys import write_keypair
from pqc.signatures import CompositeMLDSA65Ed25519PrivateKey
from qkd.kms import KmeConfig, make_pki, start_kme
from qkd.kms.linkend import KmeLinkEnd
from qkd.kms.server import KmeService, RunningKme
from qkd.kms.testing import free_port
from qkd.runtime import LinkFaults, LinkStatus, SharedEmulation
from qshift.scenario.links import link_feed, write_preshared_pads
from qshift.scenario.model import LinkSpec, Scenario
from qshift.scenario.netpath import ChannelPath
from qshift.scenario.traffic import SinkService

WARM_UP_TIMEOUT_S = 90.0


def kme_id(node: str) -> str:
    return f"KME_{node}"


def sae_id(node: str) -> str:
    return f"SAE_{node}"


@dataclass
class RunningGateway:
    runner: web.AppRunner
    app: web.Application

    @property
    def service(self) -> GatewayService:
        return service_of(self.app)


@dataclass
class LinkHandle:
    """One scenario link: its spec, the emulated physics both ends share, and its classical path."""

    spec: LinkSpec
    alice: str                       # node name of the link's Alice (the smaller KME ID)
    bob: str
    faults: LinkFaults
    emulation: SharedEmulation
    path: ChannelPath
    psk_file: Path
    last_label: str = ""

    @property
    def ends(self) -> tuple[str, str]:
        return self.alice, self.bob


@dataclass
class ScenarioSystem:
    """The running parts of one scenario, with the handles faults act on."""

    scenario: Scenario
    state_dir: Path
    kme_configs: dict[str, KmeConfig] = field(default_factory=dict)
    kmes: dict[str, RunningKme | None] = field(default_factory=dict)
    links: dict[str, LinkHandle] = field(default_factory=dict)
    gateways: dict[str, RunningGateway] = field(default_factory=dict)
    sink: SinkService = field(default_factory=SinkService)
    on_link_event: Callable[[str, str, str], None] | None = None

    # -- building ---------------------------------------------------------------------------------
    async def _make_links(self, ports: dict[str, int]) -> None:
        for index, spec in enumerate(self.scenario.links):
            alice, bob = sorted(spec.ends, key=kme_id)
            path = ChannelPath("127.0.0.1", ports[bob], seed=self.scenario.seed * 1000 + index, name=spec.name)
            await path.start()
            psk = write_preshared_pads(self.state_dir / f"{spec.name}.wc-pads")
            self.links[spec.name] = LinkHandle(spec, alice, bob, LinkFaults(), SharedEmulation(), path, psk)

    def _kme_configs(self, pki: Any, ports: dict[str, int]) -> dict[str, KmeConfig]:
        topology = {
            "nodes": [{"id": kme_id(n.name), "url": f"https://127.0.0.1:{ports[n.name]}"}
                      for n in self.scenario.nodes],
            "links": [{"id": link.name, "a": kme_id(link.ends[0]), "b": kme_id(link.ends[1])}
                      for link in self.scenario.links],
            "saes": [{"id": sae_id(n.name), "node": kme_id(n.name)} for n in self.scenario.nodes if n.site],
        }
        configs = {}
        for node in self.scenario.nodes:
            ident = kme_id(node.name)
            feeds = []
            for index, handle in enumerate(self.links.values()):
                if node.name in handle.ends:
                    url = handle.path.url if node.name == handle.alice else ""
                    feeds.append(link_feed(handle.spec, seed=self.scenario.seed * 1000 + 100 * index,
                                           psk_file=handle.psk_file, channel_url=url))
            configs[node.name] = KmeConfig.model_validate({
                "node": {"id": ident, "listen_port": ports[node.name],
                         "db_path": str(self.state_dir / f"{ident}.sqlite"),
                         "master_key_path": str(self.state_dir / f"{ident}.master.key")},
                "tls": {"ca": str(pki.ca), "cert": str(pki.cert(ident)), "key": str(pki.key(ident))},
                "limits": {"relay_timeout_s": 2.0},
                "topology": topology,
                "feeds": feeds,
            })
        return configs

    def _site_config(self, pki: Any, me: str, peer: str, keys: dict[str, tuple[Path, Path]],
                     listen_port: int | None, connect_port: int | None) -> SiteConfig:
        tunnel = self.scenario.tunnel
        kme_cfg = self.kme_configs[me]
        peer_entry: dict[str, Any] = {"name": f"site-{peer}", "sae_id": sae_id(peer), "auth": "signature",
                                      "public_key": str(keys[peer][1]), "qkd": tunnel.qkd}
        if connect_port is not None:
            peer_entry["connect"] = f"127.0.0.1:{connect_port}"
        site: dict[str, Any] = {
            "site_id": f"site-{me}",
            "identity": {"signing_key": str(keys[me][0])},
            "management": {"listen": "127.0.0.1:0"},
            "kme": {"url": f"https://127.0.0.1:{kme_cfg.node.listen_port}", "sae_id": sae_id(me),
                    "ca_file": str(pki.ca), "cert_file": str(pki.cert(sae_id(me))),
                    "key_file": str(pki.key(sae_id(me))), "timeout_s": 1.0},
            "peers": [peer_entry],
            "tunnel": {"handshake_timeout_s": 5.0, "redial_interval_s": 0.2},
            "rekey": {"interval_s": tunnel.rekey_interval_s,
                      "hard_limit_s": max(30.0, 4 * tunnel.rekey_interval_s)},
        }
        if listen_port is not None:
            site["tunnel"]["listen"] = f"127.0.0.1:{listen_port}"
        if me == tunnel.initiator:
            site["forward"] = [{"listen": "127.0.0.1:0", "peer": f"site-{peer}", "target": self.sink.address}]
        else:
            site["reverse"] = [{"peer": f"site-{peer}", "target": self.sink.address}]
        return SiteConfig.model_validate(site)

    async def start(self, on_link_event: Callable[[str, str, str], None] | None = None) -> None:
        """PKI, channel paths, KMEs running their link ends (first key blocks distilled at both ends of every
        link before the tunnel starts), sink, gateways."""
        scenario = self.scenario
        sites = [n.name for n in scenario.nodes if n.site]
        pki = make_pki(self.state_dir / "pki", kmes=[kme_id(n.name) for n in scenario.nodes],
                       saes=[sae_id(s) for s in sites])
        self._pki = pki
        ports = {n.name: free_port() for n in scenario.nodes}
        await self._make_links(ports)
        self.kme_configs = self._kme_configs(pki, ports)
        for node in scenario.nodes:
            self.kmes[node.name] = await start_kme(self.kme_configs[node.name])
            self._attach(node.name)
        await self._warm_up()
        self.on_link_event = on_link_event      # the timeline starts with the traffic, after the warm-up
        await self.sink.start()
        keys = {}
        for s in (scenario.tunnel.initiator, scenario.tunnel.responder):
            keys[s] = write_keypair(CompositeMLDSA65Ed25519PrivateKey.generate(), self.state_dir / f"site-{s}.key")
        tunnel_port = free_port()
        responder = self._site_config(pki, scenario.tunnel.responder, scenario.tunnel.initiator, keys,
                                      listen_port=tunnel_port, connect_port=None)
        initiator = self._site_config(pki, scenario.tunnel.initiator, scenario.tunnel.responder, keys,
                                      listen_port=None, connect_port=tunnel_port)
        for name, cfg in ((scenario.tunnel.responder, responder), (scenario.tunnel.initiator, initiator)):
            app = create_gateway_app(cfg)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            self.gateways[name] = RunningGateway(runner, app)

    async def _warm_up(self) -> None:
        """Wait until both ends of every link delivered a block (the pools hold key before traffic)."""
        deadline = time.monotonic() + WARM_UP_TIMEOUT_S
        while True:
            pending = [f"{name}@{node}" for name, handle in self.links.items() for node in handle.ends
                       if (st := self.link_status(name, node)) is None or st.blocks["delivered"] < 1]
            if not pending:
                return
            if time.monotonic() > deadline:
                details = {name: [st.label if (st := self.link_status(name, n)) else "down" for n in h.ends]
                           for name, h in self.links.items()}
                raise RuntimeError(f"links did not distil a first block within {WARM_UP_TIMEOUT_S:.0f} s: "
                                   f"{', '.join(pending)} (states {details})")
            await asyncio.sleep(0.1)

    def _attach(self, node: str) -> None:
        """Give a (re)started KME's link ends the links' shared physics and report their state changes."""
        service = self.kme_service(node)
        if service is None:
            return
        for name, handle in self.links.items():
            end = service.link_ends.get(name)
            if end is None:
                continue
            end.use_faults(handle.faults, handle.emulation)
            end.status.on_change(functools.partial(self._link_changed, handle))

    def _link_changed(self, handle: LinkHandle, status: LinkStatus) -> None:
        label = status.label
        if label == handle.last_label or self.on_link_event is None:
            return
        handle.last_label = label
        if status.state == "running" and status.last_block is not None:
            detail = f"block {status.last_block} delivered, QBER {status.last_qber or 0.0:.3f}"
        elif status.state == "aborting":
            detail = f"block {status.last_block}: {status.reason}, QBER {status.last_qber or 0.0:.3f}"
        else:
            detail = f"{status.reason} ({status.role} end)"
        self.on_link_event(handle.spec.name, f"link:{status.state}", detail)

    # -- handles for faults and sampling ----------------------------------------------------------------
    def kme_service(self, node: str) -> KmeService | None:
        kme = self.kmes.get(node)
        return kme.service if kme is not None else None

    def link_end(self, link: str, node: str) -> KmeLinkEnd | None:
        service = self.kme_service(node)
        return service.link_ends.get(link) if service is not None else None

    def link_status(self, link: str, node: str) -> LinkStatus | None:
        end = self.link_end(link, node)
        return end.status if end is not None else None

    def link_view(self, link: str) -> LinkStatus | None:
        """The link as its Alice end reports it (Bob's while Alice's KME is down)."""
        handle = self.links[link]
        return self.link_status(link, handle.alice) or self.link_status(link, handle.bob)

    async def kill_kme(self, node: str) -> None:
        kme = self.kmes.get(node)
        if kme is not None:
            self.kmes[node] = None
            await kme.stop()

    def store_path(self, node: str) -> Path:
        return Path(self.kme_configs[node].node.db_path)

    def snapshot_store(self, node: str) -> Path:
        """A consistent copy of the node's key store now (SQLite online backup)."""
        import sqlite3

        copy = self.store_path(node).with_suffix(".snapshot.sqlite")
        copy.unlink(missing_ok=True)
        with sqlite3.connect(self.store_path(node)) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        return copy

    async def restart_kme_on(self, node: str, store_file: Path, keep_current_as: Path | None) -> None:
        """Restart the node's KME on ``store_file`` (copied over its store; the current one kept aside)."""
        import shutil

        await self.kill_kme(node)
        db = self.store_path(node)
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        if keep_current_as is not None:
            shutil.move(db, keep_current_as)
        shutil.copyfile(store_file, db)
        await self.restart_kme(node)

    async def restart_kme(self, node: str) -> None:
        if self.kmes.get(node) is None:
            self.kmes[node] = await start_kme(self.kme_configs[node])
            self._attach(node)

    def forward_port(self) -> int:
        service = self.gateways[self.scenario.tunnel.initiator].service
        return int(service.forward_addresses[0][1])

    def initiator_peer_status(self) -> dict[str, Any]:
        service = self.gateways[self.scenario.tunnel.initiator].service
        return dict(service.status()["peers"][f"site-{self.scenario.tunnel.responder}"])

    async def stop(self) -> None:
        self.on_link_event = None                 # what stopping does to the links is not part of the run
        for node in self.kmes:
            service = self.kme_service(node)
            for end in service.link_ends.values() if service is not None else ():
                await end.stop()
        for gw in self.gateways.values():
            await gw.runner.cleanup()
        await self.sink.stop()
        for node in list(self.kmes):
            await self.kill_kme(node)
        for handle in self.links.values():
            await handle.path.stop()
