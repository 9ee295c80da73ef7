"""The gateway handshake (protocol version 1): mutual authentication, X-Wing, QKD key_ID, key schedule.

Three messages, SIGMA-shaped (sign-and-MAC), used for the first handshake (plaintext HANDSHAKE records)
and for every rekey (inside the encrypted session, bound to the previous session by ``rekey_of``). The
byte layout, the transcript and the key schedule are documented in ``gateway/PROTOCOL.md``; in short::

    I -> R  ClientHello  initiator, responder, nonce_i, time, X-Wing public key, offer (JSON: modes,
                         AEADs, auth, policy, QKD key_ID or the cause of none, rekey_of)
    R -> I  ServerHello  responder, nonce_r, H(ClientHello), X-Wing ciphertext, selection (JSON: mode,
                         AEAD, policy, QKD result), auth_R over TH2, confirm_R
    I -> R  Finish       auth_I over TH3, confirm_I

    TH2 = SHA-256(ClientHello || ServerHello-core), TH3 = SHA-256(ClientHello || ServerHello)
    keys = pqc combiner(mode; [xwing, qkd (hybrid-qkd only), psk (if any)]; transcript TH2; info)
         -> k_i2r(32) || k_r2i(32) || iv_i2r(12) || iv_r2i(12) || confirm_r(32) || confirm_i(32)

A man in the middle who changes any byte of ClientHello (stripping the key_ID or the hybrid offer) is
caught by the initiator when it compares ``H(ClientHello)`` echoed in the signed ServerHello with its own
(``transcript_mismatch``); the responder never completes because it never gets a valid Finish.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway import primitives
from gateway.config import MODE_RANK, AeadName, Mode, QkdPolicy
from gateway.errors import HandshakeError, PolicyError, ProtocolError
from gateway.keys import SessionKeys, wipe
from gateway.keysource import QkdKeySource, QkdResult, discard, known_cause
from gateway.wire import decode_message, encode_message

if TYPE_CHECKING:
    from gateway.keypath import KeyPathWatcher

log = logging.getLogger(__name__)

PROTO = "qshift-gateway/1"
MSG_CLIENT_HELLO, MSG_SERVER_HELLO, MSG_FINISH = 1, 2, 3

# ClientHello fields
CH_INITIATOR, CH_RESPONDER, CH_NONCE, CH_TIME_MS, CH_XWING_PK, CH_OFFER = 1, 2, 3, 4, 5, 6
# ServerHello fields (1..5 are the signed core)
SH_RESPONDER, SH_NONCE, SH_CH_HASH, SH_XWING_CT, SH_SELECTION, SH_AUTH, SH_CONFIRM = 1, 2, 3, 4, 5, 6, 7
# Finish fields
FI_AUTH, FI_CONFIRM = 1, 2

OKM_BYTES = 152
CONFIRM_R = slice(88, 120)
CONFIRM_I = slice(120, 152)

AEADS: tuple[AeadName, ...] = ("aes-256-gcm", "chacha20-poly1305")


def _h(*parts: bytes) -> bytes:
    d = hashlib.sha256()
    for p in parts:
        d.update(p)
    return d.digest()


def _json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _unjson(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HandshakeError("malformed", f"{what}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise HandshakeError("malformed", f"{what}: expected a JSON object")
    return value


def _offer_parts(offer: dict[str, Any], initiator: str) -> tuple[list[str], dict[str, Any], str | None]:
    """(modes, qkd, key_id) of a ClientHello offer, with their JSON types checked (the offer is not yet
    authenticated when the responder reads it)."""
    modes, qkd, aeads = offer.get("modes"), offer.get("qkd"), offer.get("aeads")
    if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
        raise HandshakeError("malformed", f"ClientHello from {initiator}: offer.modes must be a list of strings")
    if not isinstance(aeads, list) or not all(isinstance(a, str) for a in aeads):
        raise HandshakeError("malformed", f"ClientHello from {initiator}: offer.aeads must be a list of strings")
    if not isinstance(qkd, dict):
        raise HandshakeError("malformed", f"ClientHello from {initiator}: offer.qkd must be an object")
    key_id = qkd.get("key_id")
    if key_id is not None and (not isinstance(key_id, str) or not 0 < len(key_id) <= 128):
        raise HandshakeError("malformed", f"ClientHello from {initiator}: offer.qkd.key_id must be a string of "
                             "1..128 characters or null")
    return modes, qkd, key_id


@dataclass(repr=False)
class PeerTrust:
    """How we authenticate one peer and what we accept from it."""

    name: str
    sae_id: str | None
    auth: str                      # "signature" | "psk"
    public_key: Any | None         # composite public key (pqc), pinned
    psk: bytearray | None
    qkd: QkdPolicy
    min_mode: Mode

    def __repr__(self) -> str:
        return f"PeerTrust(name={self.name!r}, auth={self.auth!r}, qkd={self.qkd!r})"


class ReplayGuard:
    """Remembers recent ClientHello nonces and redeemed key_IDs (bounded, time-limited)."""

    def __init__(self, horizon_s: float, capacity: int = 65536) -> None:
        self.horizon_s = horizon_s
        self.capacity = capacity
        self._nonces: OrderedDict[bytes, float] = OrderedDict()
        self._key_ids: OrderedDict[str, float] = OrderedDict()

    def _trim(self, table: OrderedDict[Any, float]) -> None:
        now = time.monotonic()
        while table and (len(table) > self.capacity or next(iter(table.values())) < now - self.horizon_s):
            table.popitem(last=False)

    def nonce_seen(self, nonce: bytes) -> bool:
        self._trim(self._nonces)
        if nonce in self._nonces:
            return True
        self._nonces[nonce] = time.monotonic()
        return False

    def key_id_seen(self, key_id: str) -> bool:
        if key_id in self._key_ids:
            return True
        self._key_ids[key_id] = time.monotonic()
        if len(self._key_ids) > self.capacity:
            self._key_ids.popitem(last=False)
        return False


@dataclass
class HandshakeContext:
    """This site's side of every handshake."""

    site_id: str
    signing_key: Any | None
    kme_sae_id: str | None
    keysource: QkdKeySource | None
    aead: AeadName
    peers: dict[str, PeerTrust]
    replay: ReplayGuard
    max_clock_skew_s: float
    #: The key-path watcher: told what every KME call showed; shortens KME waits while the path is bad.
    key_path: KeyPathWatcher | None = None

    def kme_deadline_s(self, peer: PeerTrust) -> float | None:
        """A short deadline for KME calls on a key path known to be bad, when the policy allows PQC only."""
        if self.key_path is None or peer.qkd != "preferred" or peer.min_mode != "pqc-only":
            return None
        return self.key_path.deadline_s(peer.name)

    def known_unreachable(self, peer: PeerTrust) -> str | None:
        """Why not to ask a KME the key-path watcher finds unreachable (``preferred`` policy only)."""
        if self.key_path is None or peer.qkd != "preferred" or peer.min_mode != "pqc-only":
            return None
        return self.key_path.known_unreachable(peer.name)

    def learn(self, peer: PeerTrust, result: QkdResult) -> None:
        if self.key_path is not None:
            self.key_path.learn(peer.name, result)


def _auth_tag(ctx: HandshakeContext, peer: PeerTrust, label: bytes, th: bytes) -> bytes:
    if peer.auth == "psk":
        assert peer.psk is not None
        auth_key = hmac.new(bytes(peer.psk), b"qshift-gw/1 psk authentication key", hashlib.sha256).digest()
        return hmac.new(auth_key, label + th, hashlib.sha256).digest()
    if ctx.signing_key is None:
        raise HandshakeError("policy", f"no signing key configured for signature auth with {peer.name}")
    return primitives.sign(ctx.signing_key, label + th)


def _check_auth(peer: PeerTrust, label: bytes, th: bytes, tag: bytes, who: str) -> None:
    if peer.auth == "psk":
        assert peer.psk is not None
        auth_key = hmac.new(bytes(peer.psk), b"qshift-gw/1 psk authentication key", hashlib.sha256).digest()
        expected = hmac.new(auth_key, label + th, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, tag):
            raise HandshakeError("bad_psk_mac", f"{who}: PSK authentication tag does not verify for {peer.name}")
        return
    if peer.public_key is None or not primitives.verify(peer.public_key, tag, label + th):
        raise HandshakeError("bad_signature", f"{who}: composite signature does not verify with the key "
                                              f"pinned for {peer.name}")


def _confirm(key: bytes | bytearray, label: bytes, th: bytes) -> bytes:
    return hmac.new(bytes(key), label + th, hashlib.sha256).digest()


def _schedule(*, mode: str, xwing_ss: bytes | bytearray, qkd: bytearray | None, psk: bytearray | None,
              th2: bytes, initiator: str, responder: str, key_id: str | None, offer: bytes,
              selection: bytes, rekey_of: bytes) -> bytearray:
    """152 bytes (:data:`OKM_BYTES`) of key material from the ``pqc`` combiner (layout in the module doc)."""
    inputs: list[tuple[str, bytes | bytearray]] = [("xwing", xwing_ss)]
    if mode == "hybrid-qkd":
        assert qkd is not None
        inputs.append(("qkd", qkd))
    if psk is not None:
        inputs.append(("psk", psk))
    info = _json({"proto": PROTO, "mode": mode, "initiator": initiator, "responder": responder,
                  "key_id": key_id, "offer": _h(offer).hex(), "selection": _h(selection).hex(),
                  "rekey_of": rekey_of.hex()})
    return primitives.combine(mode, inputs, transcript=th2, context=info, length=OKM_BYTES)


def _keys(okm: bytearray, role: str, **kw: Any) -> SessionKeys:
    k_i2r, k_r2i = bytearray(okm[0:32]), bytearray(okm[32:64])
    iv_i2r, iv_r2i = bytes(okm[64:76]), bytes(okm[76:88])
    if role == "initiator":
        return SessionKeys(send_key=k_i2r, recv_key=k_r2i, send_iv=iv_i2r, recv_iv=iv_r2i, **kw)
    return SessionKeys(send_key=k_r2i, recv_key=k_i2r, send_iv=iv_r2i, recv_iv=iv_i2r, **kw)


class InitiatorHandshake:
    """The initiator's side: ClientHello, then ServerHello -> Finish and keys."""

    def __init__(self, ctx: HandshakeContext, peer: str, rekey_of: bytes = b"") -> None:
        self.ctx = ctx
        self.peer = ctx.peers[peer]
        self.rekey_of = rekey_of
        self._qkd: QkdResult | None = None
        self._xwing: Any = None
        self._msg1 = b""
        self._offer = b""
        self._modes: list[str] = []

    async def first_message(self) -> bytes:
        peer = self.peer
        qkd = QkdResult(None, None, "policy_off")
        if peer.qkd != "off" and self.ctx.keysource is not None and peer.sae_id:
            known = self.ctx.known_unreachable(peer)
            if known is not None:
                qkd = QkdResult(None, None, "kme_unreachable", known)
            else:
                qkd = await self.ctx.keysource.fetch(peer.sae_id, self.ctx.kme_deadline_s(peer))
                self.ctx.learn(peer, qkd)
        elif peer.qkd != "off":
            qkd = QkdResult(None, None, "no_kme")
        if qkd.key is None and (peer.qkd == "required" or peer.min_mode == "hybrid-qkd"):
            raise PolicyError("qkd_required", f"peer {peer.name} requires a QKD key and none is available "
                                              f"from the KME (cause: {qkd.cause})")
        self._qkd = qkd
        if qkd.key is not None:
            self._modes = ["hybrid-qkd"] if peer.qkd == "required" or peer.min_mode == "hybrid-qkd" \
                else ["hybrid-qkd", "pqc-only"]
        else:
            self._modes = ["pqc-only"]
        self._xwing = primitives.xwing_generate()
        aeads = [self.ctx.aead] + [a for a in AEADS if a != self.ctx.aead]
        self._offer = _json({
            "modes": self._modes, "aeads": aeads, "auth": peer.auth,
            "policy": {"qkd": peer.qkd, "min_mode": peer.min_mode},
            "qkd": {"key_id": qkd.key_id, "sae_id": self.ctx.kme_sae_id, "cause": qkd.cause},
            "rekey_of": self.rekey_of.hex(),
        })
        self._msg1 = encode_message(MSG_CLIENT_HELLO, {
            CH_INITIATOR: self.ctx.site_id.encode(), CH_RESPONDER: peer.name.encode(),
            CH_NONCE: secrets.token_bytes(32), CH_TIME_MS: int(time.time() * 1000).to_bytes(8, "big"),
            CH_XWING_PK: primitives.xwing_public_bytes(self._xwing), CH_OFFER: self._offer,
        })
        return self._msg1

    def abandon(self) -> None:
        if self._qkd is not None:
            discard(self._qkd)

    async def finish(self, msg2: bytes) -> tuple[bytes, SessionKeys]:
        try:
            return await self._finish(msg2)
        finally:
            self.abandon()

    async def _finish(self, msg2: bytes) -> tuple[bytes, SessionKeys]:
        """Check ServerHello, derive, answer. The event loop gets a turn between the signature check,
        the decapsulation and our signature (each a few ms of CPU that holds the GIL), so the streams of
        a session that is rekeying wait for one of them at a time, not for all three."""
        peer = self.peer
        try:
            f = decode_message(msg2, MSG_SERVER_HELLO, set(range(1, 8)), set(range(1, 8)), "ServerHello")
        except ProtocolError as exc:
            raise HandshakeError("malformed", str(exc)) from None
        if not hmac.compare_digest(f[SH_CH_HASH], _h(self._msg1)):
            raise HandshakeError("transcript_mismatch", f"ServerHello from {peer.name} answers a ClientHello "
                                 "that differs from the one we sent (modified in transit)")
        if f[SH_RESPONDER] != peer.name.encode():
            raise HandshakeError("wrong_peer", f"ServerHello: responder {f[SH_RESPONDER]!r}, expected {peer.name!r}")
        core = encode_message(MSG_SERVER_HELLO, {t: f[t] for t in range(1, 6)})
        th2 = _h(self._msg1, core)
        _check_auth(peer, b"qshift-gw/1 responder auth", th2, f[SH_AUTH], "ServerHello")
        sel = _unjson(f[SH_SELECTION], "ServerHello selection")
        mode, aead = sel.get("mode"), sel.get("aead")
        if mode not in self._modes:
            raise HandshakeError("policy", f"ServerHello: mode {mode!r} was not offered ({self._modes})")
        if MODE_RANK[mode] < MODE_RANK[peer.min_mode]:
            raise HandshakeError("policy", f"ServerHello: mode {mode} is below min_mode {peer.min_mode}")
        if aead not in AEADS:
            raise HandshakeError("policy", f"ServerHello: AEAD {aead!r} not offered")
        assert self._qkd is not None
        qkd_key = self._qkd.key if mode == "hybrid-qkd" else None
        await asyncio.sleep(0)
        ss = primitives.xwing_decapsulate(self._xwing, f[SH_XWING_CT])
        okm = _schedule(mode=mode, xwing_ss=ss, qkd=qkd_key, psk=peer.psk, th2=th2,
                        initiator=self.ctx.site_id, responder=peer.name,
                        key_id=self._qkd.key_id if mode == "hybrid-qkd" else None,
                        offer=self._offer, selection=f[SH_SELECTION], rekey_of=self.rekey_of)
        wipe(ss if isinstance(ss, bytearray) else None)
        try:
            expected = _confirm(okm[CONFIRM_R], b"qshift-gw/1 responder confirm", th2 + f[SH_AUTH])
            if not hmac.compare_digest(expected, f[SH_CONFIRM]):
                raise HandshakeError("bad_confirmation", f"ServerHello: key confirmation from {peer.name} fails")
            th3 = _h(self._msg1, msg2)
            await asyncio.sleep(0)
            auth_i = _auth_tag(self.ctx, peer, b"qshift-gw/1 initiator auth", th3)
            confirm_i = _confirm(okm[CONFIRM_I], b"qshift-gw/1 initiator confirm", th3 + auth_i)
            msg3 = encode_message(MSG_FINISH, {FI_AUTH: auth_i, FI_CONFIRM: confirm_i})
            cause, detail = None, None
            if mode != "hybrid-qkd":
                peer_qkd = sel.get("qkd") if isinstance(sel.get("qkd"), dict) else {}
                cause = self._qkd.cause or known_cause(peer_qkd.get("cause"))
                detail = self._qkd.detail if self._qkd.cause else None
            keys = _keys(okm, "initiator", aead=aead, mode=mode,
                         key_id=self._qkd.key_id if mode == "hybrid-qkd" else None,
                         cause=cause, cause_detail=detail, session_id=th3, peer=peer.name)
        finally:
            wipe(okm)
        return msg3, keys


class ResponderHandshake:
    """The responder's side: ClientHello -> ServerHello, then Finish -> keys."""

    def __init__(self, ctx: HandshakeContext, expected_peer: str | None = None, rekey_of: bytes = b"") -> None:
        self.ctx = ctx
        self.expected_peer = expected_peer
        self.rekey_of = rekey_of
        self.peer: PeerTrust | None = None
        self._pending: dict[str, Any] = {}

    async def respond(self, msg1: bytes) -> bytes:
        ctx = self.ctx
        try:
            f = decode_message(msg1, MSG_CLIENT_HELLO, set(range(1, 7)), set(range(1, 7)), "ClientHello")
        except ProtocolError as exc:
            reason = "version" if "version" in str(exc) else "malformed"
            raise HandshakeError(reason, str(exc)) from None
        initiator = f[CH_INITIATOR].decode("utf-8", "replace")
        if f[CH_RESPONDER] != ctx.site_id.encode():
            raise HandshakeError("wrong_peer", f"ClientHello from {initiator!r} is addressed to "
                                 f"{f[CH_RESPONDER]!r}, not to {ctx.site_id!r}")
        peer = ctx.peers.get(initiator)
        if peer is None:
            raise HandshakeError("unknown_peer", f"ClientHello: initiator {initiator!r} is not a configured peer")
        if self.expected_peer is not None and initiator != self.expected_peer:
            raise HandshakeError("wrong_peer", f"rekey ClientHello from {initiator!r} on the session with "
                                 f"{self.expected_peer!r}")
        self.peer = peer
        if len(f[CH_NONCE]) != 32 or len(f[CH_TIME_MS]) != 8:
            raise HandshakeError("malformed", f"ClientHello from {initiator}: nonce of {len(f[CH_NONCE])} bytes "
                                 f"(need 32) or time of {len(f[CH_TIME_MS])} bytes (need 8)")
        sent_ms = int.from_bytes(f[CH_TIME_MS], "big")
        if abs(time.time() * 1000 - sent_ms) > ctx.max_clock_skew_s * 1000:
            raise HandshakeError("stale", f"ClientHello from {initiator}: timestamp {sent_ms} ms is more than "
                                 f"{ctx.max_clock_skew_s} s from our clock")
        if ctx.replay.nonce_seen(bytes(f[CH_NONCE])):
            raise HandshakeError("replayed", f"ClientHello from {initiator}: nonce already seen (replayed)")
        offer = _unjson(f[CH_OFFER], "ClientHello offer")
        if offer.get("rekey_of", "") != self.rekey_of.hex():
            raise HandshakeError("transcript_mismatch", f"ClientHello from {initiator}: bound to another session")
        if offer.get("auth") != peer.auth:
            raise HandshakeError("policy", f"ClientHello from {initiator}: auth {offer.get('auth')!r}, "
                                           f"configured {peer.auth!r}")
        modes, qkd_offer, key_id = _offer_parts(offer, initiator)
        qkd = QkdResult(None, None, known_cause(qkd_offer.get("cause") or "not_offered"))
        if key_id is not None:
            if ctx.replay.key_id_seen(key_id):
                raise HandshakeError("key_id_reused", f"ClientHello from {initiator}: QKD key_ID already used "
                                     "in another session")
            if peer.qkd != "off" and "hybrid-qkd" in modes and ctx.keysource is not None:
                known = ctx.known_unreachable(peer)
                if known is not None:
                    qkd = QkdResult(None, key_id, "kme_unreachable", known)
                else:
                    qkd = await ctx.keysource.redeem(peer.sae_id or qkd_offer.get("sae_id") or "", key_id,
                                                     ctx.kme_deadline_s(peer))
                    ctx.learn(peer, qkd)
                if qkd.cause is not None:
                    qkd.cause = "peer_key_" + qkd.cause
            else:
                qkd = QkdResult(None, key_id, "policy_off")
        if qkd.key is not None:
            mode = "hybrid-qkd"
        elif "pqc-only" in modes and peer.qkd != "required" and peer.min_mode == "pqc-only":
            mode = "pqc-only"
        else:
            raise PolicyError("qkd_required", f"ClientHello from {initiator}: no QKD key (cause: {qkd.cause}) "
                              f"and policy qkd={peer.qkd}, min_mode={peer.min_mode} forbid pqc-only")
        aeads = [a for a in (offer.get("aeads") or []) if a in AEADS]
        if not aeads:
            discard(qkd)
            raise HandshakeError("policy", f"ClientHello from {initiator}: no AEAD in common")
        aead = aeads[0]
        try:
            ss, ct = primitives.xwing_encapsulate(f[CH_XWING_PK])
        except Exception as exc:  # noqa: BLE001 - a bad public key is the peer's fault
            discard(qkd)
            raise HandshakeError("malformed", f"ClientHello from {initiator}: X-Wing public key rejected "
                                 f"({type(exc).__name__})") from None
        try:
            await asyncio.sleep(0)   # let the streams run between the encapsulation and our signature
        except BaseException:
            discard(qkd)
            raise
        selection = _json({"mode": mode, "aead": aead, "policy": {"qkd": peer.qkd, "min_mode": peer.min_mode},
                           "qkd": {"redeemed": qkd.key is not None, "cause": None if mode == "hybrid-qkd"
                                   else qkd.cause}})
        core_fields = {SH_RESPONDER: ctx.site_id.encode(), SH_NONCE: secrets.token_bytes(32),
                       SH_CH_HASH: _h(msg1), SH_XWING_CT: ct, SH_SELECTION: selection}
        core = encode_message(MSG_SERVER_HELLO, core_fields)
        th2 = _h(msg1, core)
        okm = _schedule(mode=mode, xwing_ss=ss, qkd=qkd.key if mode == "hybrid-qkd" else None, psk=peer.psk,
                        th2=th2, initiator=initiator, responder=ctx.site_id,
                        key_id=key_id if mode == "hybrid-qkd" else None, offer=f[CH_OFFER],
                        selection=selection, rekey_of=self.rekey_of)
        discard(qkd)
        auth_r = _auth_tag(ctx, peer, b"qshift-gw/1 responder auth", th2)
        confirm_r = _confirm(okm[CONFIRM_R], b"qshift-gw/1 responder confirm", th2 + auth_r)
        msg2 = encode_message(MSG_SERVER_HELLO, {**core_fields, SH_AUTH: auth_r, SH_CONFIRM: confirm_r})
        self._pending = {"okm": okm, "th3": _h(msg1, msg2), "mode": mode, "aead": aead,
                         "key_id": key_id if mode == "hybrid-qkd" else None,
                         "cause": None if mode == "hybrid-qkd" else qkd.cause}
        return msg2

    async def complete(self, msg3: bytes) -> SessionKeys:
        return self._complete(msg3)

    def abandon(self) -> None:
        okm = self._pending.get("okm")
        if okm is not None:
            wipe(okm)

    def _complete(self, msg3: bytes) -> SessionKeys:
        peer, p = self.peer, self._pending
        if peer is None or not p:
            raise HandshakeError("malformed", "Finish before ServerHello")
        okm: bytearray = p["okm"]
        try:
            try:
                f = decode_message(msg3, MSG_FINISH, {1, 2}, {1, 2}, "Finish")
            except ProtocolError as exc:
                raise HandshakeError("malformed", str(exc)) from None
            _check_auth(peer, b"qshift-gw/1 initiator auth", p["th3"], f[FI_AUTH], "Finish")
            expected = _confirm(okm[CONFIRM_I], b"qshift-gw/1 initiator confirm", p["th3"] + f[FI_AUTH])
            if not hmac.compare_digest(expected, f[FI_CONFIRM]):
                raise HandshakeError("bad_confirmation", f"Finish: key confirmation from {peer.name} fails")
            return _keys(okm, "responder", aead=p["aead"], mode=p["mode"], key_id=p["key_id"],
                         cause=p["cause"], session_id=p["th3"], peer=peer.name)
        finally:
            wipe(okm)
            self._pending = {}
