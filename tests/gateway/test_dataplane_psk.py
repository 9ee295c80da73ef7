"""WireGuard PSKs from the hybrid session, and the rotator's policy, without a real WireGuard.

The PSK tests derive from the keys of real gateway sessions (two gateways, a real KME, hybrid-qkd); the
rotator tests drive it against a fake interface whose calls can hang or fail, on short clocks.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets

import pytest

from gateway.dataplane import (
    DataPlaneError,
    RotationPolicy,
    WgTool,
    WireGuardPeerSpec,
    WireGuardPeerState,
    WireGuardPskRotator,
    derive_wireguard_psk,
    metrics_text,
    psk_label,
)
from gateway.keys import SessionKeys, export_key
from tests.gateway.harness import start_pair, wait_for

PEER_KEY = base64.b64encode(b"\x01" * 32).decode()


def session_keys(peer: str = "site-b", mode: str = "hybrid-qkd", swap: bool = False,
                 k1: bytes | None = None, k2: bytes | None = None, sid: bytes = b"\x07" * 32) -> SessionKeys:
    k1 = k1 or b"\x11" * 32
    k2 = k2 or b"\x22" * 32
    send, recv = (k2, k1) if swap else (k1, k2)
    return SessionKeys(send_key=bytearray(send), recv_key=bytearray(recv), send_iv=b"\0" * 12, recv_iv=b"\0" * 12,
                       aead="aes-256-gcm", mode=mode, key_id=None, cause=None, session_id=sid, peer=peer)


async def test_both_gateways_derive_the_same_psk_from_a_real_hybrid_session_and_it_is_no_tunnel_key(
        tmp_path, pki, kme, sha_target):
    pair = await start_pair(tmp_path, pki, kme.url, sha_target)
    try:
        ka, kb = pair.session_a().keys, pair.session_b().keys
        assert ka.mode == kb.mode == "hybrid-qkd"
        pa = derive_wireguard_psk(ka, local_site="site-a", epoch=0)
        pb = derive_wireguard_psk(kb, local_site="site-b", epoch=0)
        assert len(pa.value) == 32 and pa.value == pb.value and pa.fingerprint == pb.fingerprint
        assert bytes(pa.value) not in (bytes(ka.send_key), bytes(ka.recv_key))
        await pair.session_a().rekey_now()
        await wait_for(lambda: pair.session_b().rekeys == 1, 5, "site-b to install epoch 1")
        qa = derive_wireguard_psk(pair.session_a().keys, local_site="site-a", epoch=1)
        qb = derive_wireguard_psk(pair.session_b().keys, local_site="site-b", epoch=1)
        assert qa.value == qb.value != pa.value
    finally:
        await pair.stop()


def test_the_psk_label_separates_epoch_mode_and_peer_pair_and_is_symmetric():
    assert psk_label("site-a", "site-b", 3, "hybrid-qkd") == psk_label("site-b", "site-a", 3, "hybrid-qkd")
    labels = {psk_label("site-a", "site-b", 3, "hybrid-qkd"), psk_label("site-a", "site-b", 4, "hybrid-qkd"),
              psk_label("site-a", "site-b", 3, "pqc-only"), psk_label("site-a", "site-c", 3, "hybrid-qkd")}
    assert len(labels) == 4
    keys = session_keys()
    values = {bytes(export_key(keys, label)) for label in labels}
    assert len(values) == 4
    # each end holds the direction keys swapped: the export is the same
    assert export_key(session_keys(swap=True), b"x") == export_key(session_keys(), b"x")
    with pytest.raises(ValueError, match="unknown session mode"):
        psk_label("a", "b", 0, "classical")


def test_a_psk_is_never_shown_and_wiped_keys_are_refused(caplog):
    keys = session_keys(k1=secrets.token_bytes(32), k2=secrets.token_bytes(32))
    psk = derive_wireguard_psk(keys, local_site="site-a", epoch=2)
    line = psk.wg_key_line()
    secret_b64 = line.strip().decode()
    for text in (repr(psk), str(psk)):
        assert secret_b64 not in text and bytes(psk.value).hex() not in text and "fingerprint=" in text
    psk.wipe()
    assert not any(psk.value)
    with pytest.raises(ValueError, match="wiped"):
        psk.wg_key_line()
    keys.wipe()
    with pytest.raises(ValueError, match="wiped"):
        derive_wireguard_psk(keys, local_site="site-a", epoch=3)


def test_wg_tool_refuses_names_and_keys_that_could_be_options():
    with pytest.raises(DataPlaneError, match="interface name"):
        WgTool("--help")
    with pytest.raises(DataPlaneError, match="32 bytes of base64"):
        WireGuardPskRotator(peer="site-b", local_site="site-a", control=FakeWg(),
                            spec=WireGuardPeerSpec(public_key="-x"))


# -- the rotator against a fake interface ---------------------------------------------------------------
class FakeWg:
    """Records installs; ``hang``/``fail`` make the next calls hang past the deadline or fail."""

    interface = "fakewg0"

    def __init__(self, present: bool = True, interface: str = "fakewg0") -> None:
        self.interface = interface
        self.present = present
        self.psks: list[str] = []
        self.calls: list[str] = []
        self.hang = 0
        self.fail = 0
        self.crash_peer = 0

    async def _maybe_fail(self, op: str) -> None:
        self.calls.append(op)
        if self.hang:
            self.hang -= 1
            await asyncio.sleep(3600)
        if self.fail:
            self.fail -= 1
            raise DataPlaneError("tool_failed", f"{op} refused")

    async def set_psk(self, public_key: str, psk) -> None:
        await self._maybe_fail("set_psk")
        assert self.present, "set_psk on a removed peer"
        self.psks.append(psk.fingerprint)

    async def add_peer(self, spec, psk) -> None:
        await self._maybe_fail("add_peer")
        self.present = True
        self.psks.append(psk.fingerprint)

    async def remove_peer(self, public_key: str) -> None:
        await self._maybe_fail("remove_peer")
        self.present = False

    async def peer(self, public_key: str):
        if self.crash_peer:
            self.crash_peer -= 1
            raise RuntimeError("boom")
        if not self.present:
            return None
        return WireGuardPeerState(spec=WireGuardPeerSpec(public_key, "10.0.0.2:51820", ("10.9.0.2/32",), 25),
                                  has_psk=False, latest_handshake=0, rx_bytes=0, tx_bytes=0)


def rotator(wg: FakeWg, **policy) -> WireGuardPskRotator:
    policy = {"install_timeout_s": 0.2, "retry_interval_s": 0.05, **policy}
    return WireGuardPskRotator(peer="site-b", local_site="site-a", control=wg,
                               spec=WireGuardPeerSpec(PEER_KEY), policy=RotationPolicy(**policy))


async def test_each_epoch_is_installed_and_a_stale_psk_is_kept_for_a_bounded_time_then_removed(caplog):
    caplog.set_level(logging.INFO, "gateway.dataplane.rotation")
    wg = FakeWg()
    rot = rotator(wg, rotation_interval_s=0.2, max_age_s=0.4, on_stale="keep", keep_max_s=0.4)
    rot.start()
    try:
        assert rot.offer(session_keys(sid=b"\1" * 32), 0)
        await wait_for(lambda: rot.state == "up", 2, "first install")
        assert rot.offer(session_keys(sid=b"\2" * 32), 1)
        await wait_for(lambda: rot.rotations == 2, 2, "second install")
        assert len(set(wg.psks)) == 2
        st = rot.status()
        assert (st.psk_epoch, st.mode, st.psk_fingerprint) == (1, "hybrid-qkd", wg.psks[-1])
        await wait_for(lambda: rot.state == "stale", 2, "stale")
        assert wg.present   # kept, loudly
        assert any(r.levelno == logging.WARNING and getattr(r, "to_state", None) == "stale" for r in caplog.records)
        await wait_for(lambda: rot.state == "removed", 2, "removed after keep_max_s")
        assert not wg.present and rot.removals["stale_too_long"] == 1
        # the next epoch recreates the peer
        assert rot.offer(session_keys(sid=b"\3" * 32), 2)
        await wait_for(lambda: rot.state == "up" and wg.present, 2, "restored")
        assert wg.calls[-1] == "add_peer" and rot.last_transition["reason"] == "peer_restored"
        text = metrics_text([rot]).decode()
        assert 'gateway_wireguard_peer_removals_total{interface="fakewg0",peer="site-b",reason="stale_too_long"} 1.0' \
            in text
        assert 'gateway_wireguard_psk_epoch{interface="fakewg0",peer="site-b"} 2.0' in text
        assert 'gateway_wireguard_psk_mode{interface="fakewg0",mode="hybrid-qkd",peer="site-b"} 1.0' in text
        for fp in wg.psks:
            assert fp not in text
    finally:
        await rot.stop()


async def test_required_fails_closed_before_the_first_psk_when_it_expires_and_for_pqc_only_epochs():
    wg = FakeWg()
    policy = RotationPolicy.for_peer("required", rotation_interval_s=0.2, max_age_s=0.4,
                                     install_timeout_s=0.2, retry_interval_s=0.05)
    assert (policy.on_stale, policy.min_mode) == ("remove", "hybrid-qkd")
    rot = WireGuardPskRotator(peer="site-b", local_site="site-a", control=wg, spec=WireGuardPeerSpec(PEER_KEY),
                              policy=policy)
    rot.start()
    try:
        await wait_for(lambda: rot.state == "removed" and not wg.present, 2, "removal before any PSK")
        assert rot.removals["no_psk_yet"] == 1
        assert not rot.offer(session_keys(mode="pqc-only"), 0)
        assert rot.status().failures == {"offer:mode_below_policy": 1}
        await asyncio.sleep(0.1)
        assert not wg.present
        assert rot.offer(session_keys(), 1)
        await wait_for(lambda: rot.state == "up" and wg.present, 2, "installed with the first hybrid PSK")
        assert rot.spec.endpoint == "10.0.0.2:51820" and rot.spec.allowed_ips == ("10.9.0.2/32",)
        await wait_for(lambda: rot.state == "removed", 2, "removal when the PSK expires")
        assert rot.removals["psk_expired"] == 1 and not wg.present
    finally:
        await rot.stop()


async def test_hung_and_failing_wg_calls_are_counted_retried_and_the_supervisor_restarts_a_crash():
    wg = FakeWg()
    wg.crash_peer = 1
    rot = rotator(wg, rotation_interval_s=5, max_age_s=10)
    rot.start()
    try:
        await wait_for(lambda: rot.restarts == 1, 3, "a supervisor restart")
        wg.hang, wg.fail = 1, 1
        rot.offer(session_keys(), 0)
        await wait_for(lambda: rot.state == "up", 3, "install after a timeout and a failure")
        failures = rot.status().failures
        assert failures["install:timeout"] == 1 and failures["install:tool_failed"] == 1
        assert failures["supervisor:internal"] == 1
        assert "install:" in (rot.last_error or "") or "supervisor" in (rot.last_error or "")
        text = metrics_text([rot]).decode()
        assert 'gateway_wireguard_failures_total{interface="fakewg0",op="install",peer="site-b",reason="timeout"} 1.0' \
            in text
        assert 'gateway_wireguard_rotator_restarts_total{interface="fakewg0",peer="site-b"} 1.0' in text
    finally:
        await rot.stop()


async def test_the_rotator_asks_for_a_rekey_once_per_psk_when_it_is_due():
    wg = FakeWg()
    asked: list[float] = []
    rot = WireGuardPskRotator(peer="site-b", local_site="site-a", control=wg, spec=WireGuardPeerSpec(PEER_KEY),
                              policy=RotationPolicy(rotation_interval_s=0.15, max_age_s=5, retry_interval_s=0.05),
                              request_rekey=lambda: asked.append(1))
    rot.start()
    try:
        rot.offer(session_keys(), 0)
        await wait_for(lambda: len(asked) == 1, 2, "a rekey request")
        await asyncio.sleep(0.3)
        assert len(asked) == 1
        rot.offer(session_keys(sid=b"\x09" * 32), 1)
        await wait_for(lambda: len(asked) == 2, 2, "a rekey request for the next PSK")
    finally:
        await rot.stop()


async def test_data_planes_from_config_feed_each_peer_its_epochs_and_show_status_and_metrics():
    from prometheus_client import CollectorRegistry, generate_latest
    from pydantic import ValidationError

    from gateway.dataplane import DataPlanes, WireGuardConfig

    required = WireGuardConfig(interface="wg0", public_key=PEER_KEY, rotation_interval_s=0.2, max_age_s=0.5,
                               install_timeout_s=0.2, retry_interval_s=0.05)
    relaxed = WireGuardConfig(interface="wg1", public_key=base64.b64encode(b"\2" * 32).decode())
    assert required.policy("required").on_stale == "remove" and relaxed.policy("preferred").on_stale == "keep"
    with pytest.raises(ValidationError, match="max_age_s"):
        WireGuardConfig(interface="wg0", public_key=PEER_KEY, rotation_interval_s=10, max_age_s=5)
    with pytest.raises(ValidationError, match="32 bytes"):
        WireGuardConfig(interface="wg0", public_key="nope")
    fakes = {name: FakeWg(interface=name) for name in ("wg0", "wg1")}
    asked: list[str] = []
    planes = DataPlanes.from_config("site-a", [("site-b", "required", "pqc-only", required),
                                               ("site-c", "preferred", "pqc-only", relaxed)],
                                    request_rekey=asked.append, control=lambda wg: fakes[wg.interface])
    registry = CollectorRegistry()
    planes.register_metrics(registry)
    planes.start()
    try:
        planes.keys_installed("site-b", session_keys(), 0)
        planes.keys_installed("site-x", session_keys(peer="site-x"), 0)   # not a WireGuard peer: ignored
        await wait_for(lambda: planes.status("site-b")["state"] == "up", 2, "site-b installed")
        assert planes.status("site-c")["state"] == "waiting" and planes.status("site-x") is None
        await wait_for(lambda: asked == ["site-b"], 2, "a rekey request for site-b")
        text = generate_latest(registry).decode()
        assert 'gateway_wireguard_psk_rotations_total{interface="wg0",peer="site-b"} 1.0' in text
    finally:
        await planes.stop()


class FakeVici:
    """What IpsecPpkRotator asks of charon, recorded; IKE SAs appear on initiate."""

    def __init__(self) -> None:
        self.shared: dict[str, str] = {}
        self.conns: dict[str, dict] = {}
        self.sas: list[str] = []
        self.calls: list[str] = []

    async def load_ppk(self, ppk) -> None:
        self.calls.append("load_ppk")
        self.shared[ppk.ppk_id] = ppk.fingerprint

    async def unload_shared(self, ident: str) -> None:
        self.calls.append("unload_shared")
        del self.shared[ident]

    async def load_conn(self, name: str, conn: dict, *, ppk_id, ppk_required: bool) -> None:
        self.calls.append("load_conn")
        self.conns[name] = {**conn, "ppk_id": ppk_id, "ppk_required": ppk_required}

    async def unload_conn(self, name: str) -> None:
        self.calls.append("unload_conn")
        self.conns.pop(name)

    async def initiate(self, child: str, ike: str) -> None:
        self.calls.append("initiate")
        self.sas.append(f"{len(self.calls)}")

    async def terminate(self, ike: str, ike_id: str | None = None) -> None:
        self.calls.append("terminate")
        self.sas = [s for s in self.sas if ike_id is not None and s != ike_id]

    async def ike_sas(self, ike: str) -> list[dict]:
        return [{"uniqueid": s, "state": "ESTABLISHED"} for s in self.sas]

    async def load_cert(self, pem: bytes, *, ca: bool) -> None:
        self.calls.append("load_cert:" + ("ca" if ca else "end-entity"))

    async def load_key(self, pem: bytes, key_type: str) -> None:
        self.calls.append(f"load_key:{key_type}")


async def test_ipsec_rotator_loads_each_epochs_ppk_moves_to_a_new_ike_sa_and_fails_closed():
    from pydantic import ValidationError

    from gateway.dataplane import DataPlanes, IpsecConfig, derive_ikev2_ppk

    conn = {"version": "2", "children": {"net": {"local_ts": ["10.1.0.0/24"]}}}
    cfg = IpsecConfig(name="site", child="net", initiator=True, connection=conn, rotation_interval_s=0.3,
                      max_age_s=0.6, install_timeout_s=0.5, retry_interval_s=0.05, overlap_s=0.01)
    with pytest.raises(ValidationError, match="set by the gateway"):
        IpsecConfig(name="site", child="net", initiator=True, connection={**conn, "ppk_id": "x"})
    with pytest.raises(ValidationError, match="not in ipsec.connection.children"):
        IpsecConfig(name="site", child="other", initiator=True, connection=conn)
    vici = FakeVici()
    rot = cfg.rotator("site-b", "site-a", "required", control=vici)   # type: ignore[arg-type]
    planes = DataPlanes([rot])
    planes.start()
    try:
        k0, k1 = session_keys(sid=b"\1" * 32), session_keys(sid=b"\2" * 32)
        ppk0 = derive_ikev2_ppk(k0, local_site="site-a", epoch=0)
        planes.keys_installed("site-b", k0, 0)
        await wait_for(lambda: rot.state == "up", 2, "epoch 0 installed")
        assert vici.conns["site"]["ppk_id"] == ppk0.ppk_id and vici.conns["site"]["ppk_required"] is True
        assert list(vici.shared) == [ppk0.ppk_id] and len(vici.sas) == 1
        first_sa = vici.sas[0]
        planes.keys_installed("site-b", k1, 1)
        await wait_for(lambda: rot.status().psk_epoch == 1, 2, "epoch 1 installed")
        ppk1 = derive_ikev2_ppk(k1, local_site="site-a", epoch=1)
        assert list(vici.shared) == [ppk1.ppk_id]                  # the old PPK unloaded
        assert len(vici.sas) == 1 and vici.sas[0] != first_sa       # a new IKE SA, the old one ended
        assert planes.status("site-b")["peer_id"] == ppk1.ppk_id
        await wait_for(lambda: rot.state == "removed", 2, "fail-closed removal")
        assert vici.sas == [] and "site" not in vici.conns and vici.shared == {}
        assert 'gateway_ipsec_peer_removals_total{connection="site",peer="site-b",reason="psk_expired"} 1.0' \
            in metrics_text([rot]).decode()
    finally:
        await planes.stop()


async def test_ike_credentials_are_loaded_before_the_first_ike_sa_and_a_bad_file_is_a_counted_retry(tmp_path):
    """Certificate authentication (item 5): the rotator loads CA, certificate and key over VICI when it
    starts, before any IKE SA; a key file that is no PEM key is refused by name, counted, retried."""
    from pydantic import ValidationError

    from gateway.dataplane import IpsecConfig

    ca, cert, key = tmp_path / "ca.pem", tmp_path / "a.pem", tmp_path / "a.key"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n")
    cert.write_bytes(ca.read_bytes())
    key.write_bytes(b"not a key")
    key.chmod(0o644)
    from gateway.dataplane import IkeCredentials

    with pytest.raises(DataPlaneError, match="chmod 600"):
        await IkeCredentials(cert_file=str(cert), key_file=str(key), ca_file=str(ca)).load(FakeVici())  # type: ignore[arg-type]  # a fake charon
    key.chmod(0o600)
    conn = {"version": "2", "local": {"auth": "pubkey", "id": "CN=site-a"},
            "children": {"net": {"local_ts": ["10.1.0.0/24"]}}}
    with pytest.raises(ValidationError, match="missing ipsec.key_file"):
        IpsecConfig(name="site", child="net", initiator=True, connection=conn, cert_file=str(cert), ca_file=str(ca))
    cfg = IpsecConfig(name="site", child="net", initiator=True, connection=conn, cert_file=str(cert),
                      key_file=str(key), ca_file=str(ca), rotation_interval_s=5, max_age_s=10,
                      install_timeout_s=0.5, retry_interval_s=0.05, overlap_s=0.01)
    vici = FakeVici()
    rot = cfg.rotator("site-b", "site-a", "preferred", control=vici)   # type: ignore[arg-type]
    rot.start()
    try:
        await wait_for(lambda: rot.failures[("supervisor", "bad_argument")] >= 1, 2, "the bad key refused")
        assert str(key) in (rot.last_error or "") and "initiate" not in vici.calls
        key.write_bytes(b"-----BEGIN EC PRIVATE KEY-----\nMA==\n-----END EC PRIVATE KEY-----\n")
        rot.offer(session_keys(), 0)
        await wait_for(lambda: rot.state == "up", 5, "epoch 0 installed after the restart")
        at = vici.calls.index("load_key:ecdsa")
        assert vici.calls[at - 2:at] == ["load_cert:ca", "load_cert:end-entity"]
        assert at < vici.calls.index("load_ppk") < vici.calls.index("initiate")
    finally:
        await rot.stop()


def attach(service, rot: WireGuardPskRotator) -> None:
    """Feed ``rot`` every epoch of ``service``'s session with its peer, as the service will."""
    original = service.keys_installed

    def keys_installed(session, old, new, kind):
        original(session, old, new, kind)
        if session.peer == rot.peer:
            rot.offer(new, session.status()["epoch"])

    service.keys_installed = keys_installed
    session = service.sessions.get(rot.peer)
    if session is not None:
        rot.offer(session.keys, session.status()["epoch"])
    rot.start()


async def test_a_killed_kme_means_a_pqc_only_psk_and_its_return_a_hybrid_one_in_status_and_metrics(
        tmp_path, pki, sha_target):
    from tests.gateway.harness import Kme

    ctl = Kme(tmp_path, pki, prefill_bits=1 << 16)
    await ctl.start()
    pair = await start_pair(tmp_path, pki, ctl.url, sha_target)
    wg = FakeWg()
    rot = rotator(wg, rotation_interval_s=30, max_age_s=60)
    try:
        attach(pair.a.service, rot)
        await wait_for(lambda: rot.status().mode == "hybrid-qkd", 5, "a hybrid PSK")
        await ctl.kill()
        await pair.session_a().rekey_now()
        await wait_for(lambda: rot.status().psk_epoch == 1, 5, "the epoch-1 PSK")
        assert rot.status().mode == "pqc-only" and rot.state == "up"
        assert 'gateway_wireguard_psk_mode{interface="fakewg0",mode="pqc-only",peer="site-b"} 1.0' \
            in metrics_text([rot]).decode()
        await ctl.start()
        await pair.session_a().rekey_now()
        await wait_for(lambda: rot.status().psk_epoch == 2, 5, "the epoch-2 PSK")
        assert rot.status().mode == "hybrid-qkd" and len(set(wg.psks)) == 3
    finally:
        await rot.stop()
        await pair.stop()
        if ctl.running is not None:
            await ctl.kill()


async def test_required_with_the_kme_down_ends_the_session_and_the_psk_expiry_removes_the_peer(
        tmp_path, pki, sha_target):
    from tests.gateway.harness import Kme

    ctl = Kme(tmp_path, pki, prefill_bits=1 << 16)
    await ctl.start()
    pair = await start_pair(tmp_path, pki, ctl.url, sha_target, qkd_a="required", qkd_b="required")
    wg = FakeWg()
    rot = WireGuardPskRotator(peer="site-b", local_site="site-a", control=wg, spec=WireGuardPeerSpec(PEER_KEY),
                              policy=RotationPolicy.for_peer("required", rotation_interval_s=1.0, max_age_s=1.5,
                                                             install_timeout_s=0.5, retry_interval_s=0.05))
    try:
        attach(pair.a.service, rot)
        await wait_for(lambda: rot.state == "up" and wg.present, 5, "the first PSK")
        await ctl.kill()
        pair.session_a().request_rekey()   # no QKD key: under required the rekey fails and the session ends
        await wait_for(lambda: pair.session_a() is None, 10, "the session to end")
        await wait_for(lambda: rot.state == "removed", 5, "the peer removed when the PSK expires")
        assert not wg.present and rot.removals == {"psk_expired": 1}
    finally:
        await rot.stop()
        await pair.stop()
        if ctl.running is not None:
            await ctl.kill()
