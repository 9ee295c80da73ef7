"""Start the whole system of a scenario on loopback: a KME per node, gateways at the two tunnel sites,
emulated QKD links feeding the KMEs' link pools, and a TCP sink service behind the responding gateway.

Everything is the production code (``qkd.kms`` services, ``gateway`` services, the emulator and the
post-processing pipeline) started in this process on real sockets; state lives in a temporary directory.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.config import SiteConfig
from gateway.service import GatewayService, create_gateway_app, service_of
from pqc.keys import write_keypair
from pqc.signatures import CompositeMLDSA65Ed25519PrivateKey
from qkd.kms import KmeConfig, make_pki, start_kme
from qkd.kms.server import KmeService, RunningKme
from qshift.scenario.links import LinkWorker
from qshift.scenario.model import Scenario
from qshift.scenario.traffic import SinkService


def kme_id(node: str) -> str:
    return f"KME_{node}"


def sae_id(node: str) -> str:
    return f"SAE_{node}"


def free_port() -> int:
    """An unused loopback TCP port (bound and released; a small race remains before the caller binds)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningGateway:
    runner: web.AppRunner
    app: web.Application

    @property
    def service(self) -> GatewayService:
        return service_of(self.app)


@dataclass
class ScenarioSystem:
    """The running parts of one scenario, with the handles faults act on."""

    scenario: Scenario
    state_dir: Path
    kme_configs: dict[str, KmeConfig] = field(default_factory=dict)
    kmes: dict[str, RunningKme | None] = field(default_factory=dict)
    links: dict[str, LinkWorker] = field(default_factory=dict)
    gateways: dict[str, RunningGateway] = field(default_factory=dict)
    sink: SinkService = field(default_factory=SinkService)

    # -- building ---------------------------------------------------------------------------------
    def _kme_configs(self, pki: Any) -> dict[str, KmeConfig]:
        ports = {n.name: free_port() for n in self.scenario.nodes}
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
            configs[node.name] = KmeConfig.model_validate({
                "node": {"id": ident, "listen_port": ports[node.name],
                         "db_path": str(self.state_dir / f"{ident}.sqlite"),
                         "master_key_path": str(self.state_dir / f"{ident}.master.key")},
                "tls": {"ca": str(pki.ca), "cert": str(pki.cert(ident)), "key": str(pki.key(ident))},
                "limits": {"relay_timeout_s": 2.0},
                "topology": topology,
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

    async def start(self, on_link_event: Any = None) -> None:
        """PKI, KMEs, link workers (first key blocks distilled before the tunnel starts), sink, gateways."""
        scenario = self.scenario
        sites = [n.name for n in scenario.nodes if n.site]
        pki = make_pki(self.state_dir / "pki", kmes=[kme_id(n.name) for n in scenario.nodes],
                       saes=[sae_id(s) for s in sites])
        self.kme_configs = self._kme_configs(pki)
        for node in scenario.nodes:
            self.kmes[node.name] = await start_kme(self.kme_configs[node.name])
        for index, link in enumerate(scenario.links):
            self.links[link.name] = LinkWorker(link, seed=scenario.seed * 1000 + index,
                                               deposit=self._deposit_for(link.ends),
                                               alarm=self._alarm_for(link.ends), on_event=on_link_event)
        await asyncio.gather(*(w.warm_up() for w in self.links.values()))
        for worker in self.links.values():
            worker.start()
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

    def _deposit_for(self, ends: tuple[str, str]) -> Any:
        """Deposit a distilled block at both ends' KMEs, or at neither: a block one end's KME missed would
        leave the two link pools out of step (their relay one-time pads must line up byte for byte)."""
        def deposit(link: str, material: bytes) -> None:
            services = [self.kme_service(end) for end in ends]
            if all(s is not None for s in services):
                for service in services:
                    assert service is not None
                    service.deposit(link, material)
        return deposit

    def _alarm_for(self, ends: tuple[str, str]) -> Any:
        def alarm(link: str, raised: bool, qber: float | None) -> None:
            for end in ends:
                kme = self.kmes.get(end)
                if kme is not None:
                    kme.service.set_link_alarm(link, raised, qber)
        return alarm

    # -- handles for faults and sampling ----------------------------------------------------------------
    def kme_service(self, node: str) -> KmeService | None:
        kme = self.kmes.get(node)
        return kme.service if kme is not None else None

    async def kill_kme(self, node: str) -> None:
        kme = self.kmes.get(node)
        if kme is not None:
            self.kmes[node] = None
            await kme.stop()

    async def restart_kme(self, node: str) -> None:
        if self.kmes.get(node) is None:
            self.kmes[node] = await start_kme(self.kme_configs[node])

    def forward_port(self) -> int:
        service = self.gateways[self.scenario.tunnel.initiator].service
        return int(service.forward_addresses[0][1])

    def initiator_peer_status(self) -> dict[str, Any]:
        service = self.gateways[self.scenario.tunnel.initiator].service
        return dict(service.status()["peers"][f"site-{self.scenario.tunnel.responder}"])

    async def stop(self) -> None:
        for worker in self.links.values():
            await worker.stop()
        for gw in self.gateways.values():
            await gw.runner.cleanup()
        await self.sink.stop()
        for node in list(self.kmes):
            await self.kill_kme(node)
