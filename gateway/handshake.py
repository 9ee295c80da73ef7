"""The gateway handshake (protocol version 2): mutual authentication, X-Wing, QKD key_ID, key schedule.

SIGMA-shaped (sign-and-MAC). The byte layout, the transcript and the key schedule are documented in
``gateway/PROTOCOL.md``. The *first* handshake (plaintext HANDSHAKE records) keeps everything QKD until
both sides are authenticated::

    I -> R  ClientHello  initiator, responder, nonce_i, time, X-Wing public key, offer (JSON: modes,
                         AEADs, auth, policy, no key_ID, rekey_of = ""), [cookie]
    R -> I  ServerHello  responder, nonce_r, H(ClientHello), X-Wing ciphertext, selection, auth_R, confirm_R
            (I verifies R; only then does it draw a QKD key with enc_keys)
    I -> R  Finish       auth_I, confirm_I, qkd_box = AEAD(k_box, {key_id, cause})
            (R verifies I; only then does it record the nonce and key_ID and redeem it with dec_keys)
    R -> I  Result       final mode and cause, confirmed with the session keys
    (R -> I  READY, the first sealed record: the service registers the session only once it opens)

A *rekey* runs ClientHello (with the key_ID) / ServerHello / Finish inside the established session,
where the peer is authenticated and every message is sealed.

A man in the middle who changes any byte of ClientHello (stripping the hybrid offer) is caught by the
initiator when it compares ``H(ClientHello)`` echoed in the signed ServerHello with its own
(``transcript_mismatch``); one who changes the Result makes the two sides derive different keys, so the
confirmation and READY fail. Nothing is redeemed for, drawn for or recorded from a side that has not
proven who it is (:class:`ReplayGuard`, :attr:`ResponderHandshake.authenticated`).
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
MSG_CLIENT_HELLO, MSG_SERVER_HELLO, MSG_FINISH, MSG_RESULT, MSG_RETRY = 1, 2, 3, 4, 5

# ClientHello fields
CH_INITIATOR, CH_RESPONDER, CH_NONCE, CH_TIME_MS, CH_XWING_PK, CH_OFFER = 1, 2, 3, 4, 5, 6
# ServerHello fields (1..5 are the signed core)
SH_RESPONDER, SH_NONCE, SH_CH_HASH, SH_XWING_CT, SH_SELECTION, SH_AUTH, SH_CONFIRM = 1, 2, 3, 4, 5, 6, 7
# ClientHello cookie (first handshake, when the responder is under load; see Retry)
CH_COOKIE = 7
# Finish fields (the QKD box only in a first handshake)
FI_AUTH, FI_CONFIRM, FI_QKD_BOX = 1, 2, 3
# Result fields (R -> I, first handshake only) and Retry fields (R -> I, under load)
RS_RESULT, RS_CONFIRM = 1, 2
RT_COOKIE = 1

OKM_BYTES = 152
CONFIRM_R = slice(88, 120)
CONFIRM_I = slice(120, 152)
#: First handshake, before the QKD key: the authentication stage's own key material.
AUTH_MODE = "handshake-auth"
AUTH_BYTES = 96
AUTH_CONFIRM_R, AUTH_CONFIRM_I, AUTH_BOX = slice(0, 32), slice(32, 64), slice(64, 96)

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
    """Remembers the ClientHello nonces and QKD key_IDs of *authenticated* handshakes (time-limited).

    Nothing an unauthenticated peer sends is recorded: a nonce is looked up when a ClientHello arrives
    and recorded only once its sender has proven who it is (Finish verified), a key_ID is recorded only
    after the initiator is authenticated (it travels encrypted in Finish, or in a rekey inside the
    session). Entries leave only when they are older than their horizon, never to make room: a table
    full of live entries refuses (``replay_table_full``), so replay state never evicts into acceptance.
    """

    def __init__(self, horizon_s: float, capacity: int = 65536, key_id_horizon_s: float = 86400.0) -> None:
        self.horizon_s = horizon_s
        self.key_id_horizon_s = max(key_id_horizon_s, horizon_s)
        self.capacity = capacity
        self._nonces: OrderedDict[bytes, float] = OrderedDict()
        self._key_ids: OrderedDict[str, float] = OrderedDict()

    @staticmethod
    def _expire(table: OrderedDict[Any, float], horizon_s: float) -> None:
        cutoff = time.monotonic() - horizon_s
        while table and next(iter(table.values())) < cutoff:
            table.popitem(last=False)

    def _record(self, table: OrderedDict[Any, float], horizon_s: float, item: Any, what: str) -> bool:
        self._expire(table, horizon_s)
        if item in table:
            return True
        if len(table) >= self.capacity:
            raise HandshakeError("replay_table_full", f"{len(table)} {what} of the last {horizon_s:.0f} s are "
                                 "remembered (the capacity); refusing rather than forgetting one")
        table[item] = time.monotonic()
        return False

    def nonce_known(self, nonce: bytes) -> bool:
        """True when an authenticated handshake used ``nonce`` within the horizon (records nothing)."""
        self._expire(self._nonces, self.horizon_s)
        return nonce in self._nonces

    def nonce_seen(self, nonce: bytes) -> bool:
        """Record the nonce of an authenticated ClientHello; True when it was recorded already."""
        return self._record(self._nonces, self.horizon_s, nonce, "ClientHello nonces")

    def key_id_seen(self, key_id: str) -> bool:
        """Record the key_ID an authenticated peer sent; True when it was recorded already."""
        return self._record(self._key_ids, self.key_id_horizon_s, key_id, "QKD key_IDs")


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
              th: bytes, initiator: str, responder: str, key_id: str | None, offer: bytes,
              selection: bytes, rekey_of: bytes) -> bytearray:
    """152 bytes (:data:`OKM_BYTES`) of session key material from the ``pqc`` combiner (module doc)."""
    inputs: list[tuple[str, bytes | bytearray]] = [("xwing", xwing_ss)]
    if mode == "hybrid-qkd":
        assert qkd is not None
        inputs.append(("qkd", qkd))
    if psk is not None:
        inputs.append(("psk", psk))
    info = _json({"proto": PROTO, "mode": mode, "initiator": initiator, "responder": responder,
                  "key_id": key_id, "offer": _h(offer).hex(), "selection": _h(selection).hex(),
                  "rekey_of": rekey_of.hex()})
    return primitives.combine(mode, inputs, transcript=th, context=info, length=OKM_BYTES)


def _auth_schedule(*, xwing_ss: bytes | bytearray, psk: bytearray | None, th2: bytes, initiator: str,
                   responder: str, offer: bytes, selection: bytes) -> bytearray:
    """First handshake, before any QKD key: confirm_r(32) || confirm_i(32) || k_box(32) (:data:`AUTH_BYTES`).

    Its own combiner mode (``handshake-auth``), so it never equals session key material."""
    inputs: list[tuple[str, bytes | bytearray]] = [("xwing", xwing_ss)]
    if psk is not None:
        inputs.append(("psk", psk))
    info = _json({"proto": PROTO, "stage": "auth", "initiator": initiator, "responder": responder,
                  "offer": _h(offer).hex(), "selection": _h(selection).hex()})
    return primitives.combine(AUTH_MODE, inputs, transcript=th2, context=info, length=AUTH_BYTES)


def _keys(okm: bytearray, role: str, **kw: Any) -> SessionKeys:
    """One side's session keys from the AEAD keys and IVs at the head of ``okm`` (then come the confirm keys)."""
    send_key, recv_key, send_iv, recv_iv = primitives.split_key_material(okm, initiator=role == "initiator")
    return SessionKeys(send_key=send_key, recv_key=recv_key, send_iv=send_iv, recv_iv=recv_iv, **kw)


def _secret(value: bytes | bytearray) -> bytearray:
    """An erasable copy of a secret handed back by ``pqc`` (the caller wipes it)."""
    return value if isinstance(value, bytearray) else bytearray(value)


def parse_client_hello(msg1: bytes) -> dict[int, bytes]:
    """The fields of a ClientHello, or :class:`HandshakeError` (``version`` / ``malformed``)."""
    try:
        return decode_message(msg1, MSG_CLIENT_HELLO, set(range(1, 8)), set(range(1, 7)), "ClientHello")
    except ProtocolError as exc:
        reason = "version" if "version" in str(exc) else "malformed"
        raise HandshakeError(reason, str(exc)) from None


def retry_cookie(msg2: bytes) -> bytes | None:
    """The cookie of a Retry message, or None when ``msg2`` is not a Retry."""
    if len(msg2) < 7 or msg2[5] != MSG_RETRY:
        return None
    try:
        f = decode_message(msg2, MSG_RETRY, {RT_COOKIE}, {RT_COOKIE}, "Retry")
    except ProtocolError as exc:
        raise HandshakeError("malformed", str(exc)) from None
    return f[RT_COOKIE]


def encode_retry(cookie: bytes) -> bytes:
    return encode_message(MSG_RETRY, {RT_COOKIE: cookie})


class InitiatorHandshake:
    """The initiator's side.

    First handshake (``rekey_of`` empty, plaintext records): ClientHello; ServerHello -> (responder
    authenticated, only now a QKD key is drawn) Finish with the key_ID sealed in it; Result -> keys.
    Rekey (inside the authenticated session): ClientHello with the key_ID; ServerHello -> Finish, keys.
    """

    def __init__(self, ctx: HandshakeContext, peer: str, rekey_of: bytes = b"", cookie: bytes | None = None) -> None:
        self.ctx = ctx
        self.peer = ctx.peers[peer]
        self.rekey_of = rekey_of
        self.in_session = bool(rekey_of)
        self.cookie = cookie
        self._qkd: QkdResult | None = None
        self._xwing: Any = None
        self._msg1 = b""
        self._offer = b""
        self._modes: list[str] = []
        self._ss: bytearray | None = None
        self._th3 = b""
        self._selection = b""
        self._finish_msg = b""
        self._aead = ""

    def _qkd_wanted(self) -> QkdResult | None:
        """None when a key should be asked for; else the result that says why not."""
        peer = self.peer
        if peer.qkd == "off":
            return QkdResult(None, None, "policy_off")
        if self.ctx.keysource is None or not peer.sae_id:
            return QkdResult(None, None, "no_kme")
        known = self.ctx.known_unreachable(peer)
        if known is not None:
            return QkdResult(None, None, "kme_unreachable", known)
        return None

    async def _fetch(self) -> QkdResult:
        qkd = self._qkd_wanted()
        if qkd is None:
            assert self.ctx.keysource is not None and self.peer.sae_id
            qkd = await self.ctx.keysource.fetch(self.peer.sae_id, self.ctx.kme_deadline_s(self.peer))
            self.ctx.learn(self.peer, qkd)
        return qkd

    def _requires_qkd(self) -> bool:
        return self.peer.qkd == "required" or self.peer.min_mode == "hybrid-qkd"

    def _refuse_without_key(self, qkd: QkdResult) -> None:
        if qkd.key is None and self._requires_qkd():
            raise PolicyError("qkd_required", f"peer {self.peer.name} requires a QKD key and none is available "
                                              f"from the KME (cause: {qkd.cause})")

    async def first_message(self) -> bytes:
        peer = self.peer
        if self.in_session:
            # Rekey: the responder is the authenticated session peer and the ClientHello travels sealed.
            qkd = await self._fetch()
            self._refuse_without_key(qkd)
            self._qkd = qkd
            hybrid = qkd.key is not None
            qkd_field: dict[str, Any] = {"key_id": qkd.key_id, "sae_id": self.ctx.kme_sae_id, "cause": qkd.cause}
        else:
            # First handshake: no key is drawn before the responder has proven who it is.
            why_not = self._qkd_wanted()
            if why_not is not None:
                self._refuse_without_key(why_not)
                self._qkd = why_not
            hybrid = why_not is None
            qkd_field = {"key_id": None, "sae_id": self.ctx.kme_sae_id,
                         "cause": why_not.cause if why_not is not None else None}
        if hybrid:
            self._modes = ["hybrid-qkd"] if self._requires_qkd() else ["hybrid-qkd", "pqc-only"]
        else:
            self._modes = ["pqc-only"]
        self._xwing = primitives.xwing_generate()
        aeads = [self.ctx.aead] + [a for a in AEADS if a != self.ctx.aead]
        self._offer = _json({
            "modes": self._modes, "aeads": aeads, "auth": peer.auth,
            "policy": {"qkd": peer.qkd, "min_mode": peer.min_mode},
            "qkd": qkd_field, "rekey_of": self.rekey_of.hex(),
        })
        fields = {
            CH_INITIATOR: self.ctx.site_id.encode(), CH_RESPONDER: peer.name.encode(),
            CH_NONCE: secrets.token_bytes(32), CH_TIME_MS: int(time.time() * 1000).to_bytes(8, "big"),
            CH_XWING_PK: primitives.xwing_public_bytes(self._xwing), CH_OFFER: self._offer,
        }
        if self.cookie is not None and not self.in_session:
            fields[CH_COOKIE] = self.cookie
        self._msg1 = encode_message(MSG_CLIENT_HELLO, fields)
        return self._msg1

    def abandon(self) -> None:
        if self._qkd is not None:
            discard(self._qkd)
        wipe(self._ss)
        self._ss = None
        primitives.xwing_wipe(self._xwing)

    async def finish(self, msg2: bytes) -> tuple[bytes, SessionKeys]:
        """Rekey: check ServerHello, derive, answer."""
        try:
            return await self._finish(msg2)
        finally:
            self.abandon()

    def _check_server_hello(self, msg2: bytes) -> tuple[dict[int, bytes], bytes, str, str, dict[str, Any]]:
        """(fields, TH2, mode, aead, selection) of an authentic ServerHello that answers our ClientHello."""
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
        if not isinstance(mode, str) or mode not in self._modes:
            raise HandshakeError("policy", f"ServerHello: mode {mode!r} was not offered ({self._modes})")
        if MODE_RANK[mode] < MODE_RANK[peer.min_mode]:
            raise HandshakeError("policy", f"ServerHello: mode {mode} is below min_mode {peer.min_mode}")
        if not isinstance(aead, str) or aead not in AEADS:
            raise HandshakeError("policy", f"ServerHello: AEAD {aead!r} not offered")
        return f, th2, mode, aead, sel

    def _fallback_cause(self, peer_cause: Any) -> tuple[str | None, str | None]:
        """(cause, detail) of a pqc-only session: ours when we had no key, else what the responder said."""
        own = self._qkd.cause if self._qkd is not None else None
        if own:
            return own, self._qkd.detail if self._qkd is not None else None
        return known_cause(peer_cause if isinstance(peer_cause, str) else None), None

    async def _finish(self, msg2: bytes) -> tuple[bytes, SessionKeys]:
        """Check ServerHello, derive, answer. The event loop gets a turn between the signature check,
        the decapsulation and our signature (each a few ms of CPU that holds the GIL), so the streams of
        a session that is rekeying wait for one of them at a time, not for all three."""
        peer = self.peer
        f, th2, mode, aead, sel = self._check_server_hello(msg2)
        assert self._qkd is not None
        qkd_key = self._qkd.key if mode == "hybrid-qkd" else None
        await asyncio.sleep(0)
        ss = _secret(primitives.xwing_decapsulate(self._xwing, f[SH_XWING_CT]))
        primitives.xwing_wipe(self._xwing)
        try:
            okm = _schedule(mode=mode, xwing_ss=ss, qkd=qkd_key, psk=peer.psk, th=th2,
                            initiator=self.ctx.site_id, responder=peer.name,
                            key_id=self._qkd.key_id if mode == "hybrid-qkd" else None,
                            offer=self._offer, selection=f[SH_SELECTION], rekey_of=self.rekey_of)
        finally:
            wipe(ss)
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
                peer_qkd = sel.get("qkd")
                cause, detail = self._fallback_cause(peer_qkd.get("cause") if isinstance(peer_qkd, dict) else None)
            keys = _keys(okm, "initiator", aead=aead, mode=mode,
                         key_id=self._qkd.key_id if mode == "hybrid-qkd" else None,
                         cause=cause, cause_detail=detail, session_id=th3, peer=peer.name)
        finally:
            wipe(okm)
        return msg3, keys

    async def answer(self, msg2: bytes) -> bytes:
        """First handshake: check ServerHello (the responder is authenticated after it), then draw the
        QKD key if the responder asks for hybrid-qkd, and answer with Finish (key_ID sealed inside)."""
        peer = self.peer
        f, th2, mode, aead, sel = self._check_server_hello(msg2)
        await asyncio.sleep(0)
        self._ss = _secret(primitives.xwing_decapsulate(self._xwing, f[SH_XWING_CT]))
        primitives.xwing_wipe(self._xwing)
        auth_okm = _auth_schedule(xwing_ss=self._ss, psk=peer.psk, th2=th2, initiator=self.ctx.site_id,
                                  responder=peer.name, offer=self._offer, selection=f[SH_SELECTION])
        try:
            expected = _confirm(auth_okm[AUTH_CONFIRM_R], b"qshift-gw/1 responder confirm", th2 + f[SH_AUTH])
            if not hmac.compare_digest(expected, f[SH_CONFIRM]):
                raise HandshakeError("bad_confirmation", f"ServerHello: key confirmation from {peer.name} fails")
            # The responder has proven who it is: only now is a QKD key drawn for it.
            if mode == "hybrid-qkd" and self._qkd is None:
                self._qkd = await self._fetch()
                self._refuse_without_key(self._qkd)
                if self._qkd.key is None and "pqc-only" not in self._modes:
                    raise PolicyError("qkd_required", f"no QKD key for {peer.name} (cause: {self._qkd.cause})")
            elif self._qkd is None:
                peer_qkd = sel.get("qkd")
                self._qkd = QkdResult(None, None, known_cause(
                    peer_qkd.get("cause") if isinstance(peer_qkd, dict) else None))
            box_plain = _json({"key_id": self._qkd.key_id, "cause": self._qkd.cause})
            box = primitives.seal_box(auth_okm[AUTH_BOX], b"qshift-gw/1 qkd box" + _h(self._msg1, msg2), box_plain)
            self._th3 = _h(self._msg1, msg2, encode_message(MSG_FINISH, {FI_QKD_BOX: box}))
            await asyncio.sleep(0)
            auth_i = _auth_tag(self.ctx, peer, b"qshift-gw/1 initiator auth", self._th3)
            confirm_i = _confirm(auth_okm[AUTH_CONFIRM_I], b"qshift-gw/1 initiator confirm", self._th3 + auth_i)
        finally:
            wipe(auth_okm)
        self._selection = f[SH_SELECTION]
        self._aead = aead
        self._finish_msg = encode_message(MSG_FINISH, {FI_AUTH: auth_i, FI_CONFIRM: confirm_i, FI_QKD_BOX: box})
        return self._finish_msg

    def conclude(self, msg4: bytes) -> SessionKeys:
        """First handshake: check the responder's Result (mode, confirmed with the session keys) -> keys."""
        peer = self.peer
        if self._ss is None or self._qkd is None:
            raise HandshakeError("malformed", "Result before ServerHello")
        try:
            f = decode_message(msg4, MSG_RESULT, {RS_RESULT, RS_CONFIRM}, {RS_RESULT, RS_CONFIRM}, "Result")
        except ProtocolError as exc:
            raise HandshakeError("malformed", str(exc)) from None
        result = _unjson(f[RS_RESULT], "Result")
        mode = result.get("mode")
        if not isinstance(mode, str) or mode not in self._modes or \
                (mode == "hybrid-qkd" and self._qkd.key is None):
            raise HandshakeError("policy", f"Result: mode {mode!r} is not one we can accept ({self._modes})")
        if MODE_RANK[mode] < MODE_RANK[peer.min_mode]:
            raise HandshakeError("policy", f"Result: mode {mode} is below min_mode {peer.min_mode}")
        okm = _schedule(mode=mode, xwing_ss=self._ss, qkd=self._qkd.key if mode == "hybrid-qkd" else None,
                        psk=peer.psk, th=self._th3, initiator=self.ctx.site_id, responder=peer.name,
                        key_id=self._qkd.key_id if mode == "hybrid-qkd" else None, offer=self._offer,
                        selection=self._selection, rekey_of=self.rekey_of)
        try:
            expected = _confirm(okm[CONFIRM_R], b"qshift-gw/1 responder result", self._th3 + f[RS_RESULT])
            if not hmac.compare_digest(expected, f[RS_CONFIRM]):
                raise HandshakeError("bad_confirmation", f"Result: key confirmation from {peer.name} fails")
            cause, detail = (None, None) if mode == "hybrid-qkd" else self._fallback_cause(result.get("cause"))
            session_id = _h(self._msg1, self._th3, msg4)
            return _keys(okm, "initiator", aead=self._aead, mode=mode,
                         key_id=self._qkd.key_id if mode == "hybrid-qkd" else None,
                         cause=cause, cause_detail=detail, session_id=session_id, peer=peer.name)
        finally:
            wipe(okm)


class ResponderHandshake:
    """The responder's side: ClientHello -> ServerHello, then Finish -> keys (and, in a first handshake,
    the Result message in :attr:`result_message`). :attr:`authenticated` turns True only when the
    initiator's Finish verifies; nothing is redeemed or recorded before."""

    def __init__(self, ctx: HandshakeContext, expected_peer: str | None = None, rekey_of: bytes = b"") -> None:
        self.ctx = ctx
        self.expected_peer = expected_peer
        self.rekey_of = rekey_of
        self.in_session = bool(rekey_of)
        self.peer: PeerTrust | None = None
        self.authenticated = False
        self.result_message: bytes | None = None
        self._pending: dict[str, Any] = {}

    async def respond(self, msg1: bytes) -> bytes:
        ctx = self.ctx
        f = parse_client_hello(msg1)
        initiator = f[CH_INITIATOR].decode("utf-8", "replace")
        if f[CH_RESPONDER] != ctx.site_id.encode():
            raise HandshakeError("wrong_peer", f"ClientHello from {initiator!r} is addressed to "
                                 f"{f[CH_RESPONDER]!r}, not to {ctx.site_id!r}")
        peer = ctx.peers.get(initiator)
        if peer is None:
            raise HandshakeError("unknown_peer", f"ClientHello: initiator {initiator[:64]!r} is not a configured peer")
        if self.expected_peer is not None and initiator != self.expected_peer:
            raise HandshakeError("wrong_peer", f"rekey ClientHello from {initiator!r} on the session with "
                                 f"{self.expected_peer!r}")
        self.peer = peer
        if self.in_session:
            # Inside the session only the authenticated peer can have sealed this ClientHello.
            self.authenticated = True
        if len(f[CH_NONCE]) != 32 or len(f[CH_TIME_MS]) != 8:
            raise HandshakeError("malformed", f"ClientHello from {initiator}: nonce of {len(f[CH_NONCE])} bytes "
                                 f"(need 32) or time of {len(f[CH_TIME_MS])} bytes (need 8)")
        sent_ms = int.from_bytes(f[CH_TIME_MS], "big")
        if abs(time.time() * 1000 - sent_ms) > ctx.max_clock_skew_s * 1000:
            raise HandshakeError("stale", f"ClientHello from {initiator}: timestamp {sent_ms} ms is more than "
                                 f"{ctx.max_clock_skew_s} s from our clock")
        nonce = bytes(f[CH_NONCE])
        if ctx.replay.nonce_known(nonce):
            raise HandshakeError("replayed", f"ClientHello from {initiator}: nonce already seen (replayed)")
        offer = _unjson(f[CH_OFFER], "ClientHello offer")
        if offer.get("rekey_of", "") != self.rekey_of.hex():
            raise HandshakeError("transcript_mismatch", f"ClientHello from {initiator}: bound to another session")
        if offer.get("auth") != peer.auth:
            raise HandshakeError("policy", f"ClientHello from {initiator}: auth {offer.get('auth')!r}, "
                                           f"configured {peer.auth!r}")
        modes, qkd_offer, key_id = _offer_parts(offer, initiator)
        if key_id is not None and not self.in_session:
            raise HandshakeError("malformed", f"ClientHello from {initiator}: a first ClientHello carries no "
                                 "key_ID (it travels sealed in Finish, after authentication)")
        pqc_ok = "pqc-only" in modes and peer.qkd != "required" and peer.min_mode == "pqc-only"
        qkd = QkdResult(None, None, known_cause(qkd_offer.get("cause") or "not_offered"))
        if self.in_session:
            if ctx.replay.nonce_seen(nonce):
                raise HandshakeError("replayed", f"rekey ClientHello from {initiator}: nonce already seen")
            qkd = await self._redeem(peer, modes, qkd_offer, key_id, qkd)
            mode = "hybrid-qkd" if qkd.key is not None else "pqc-only"
        elif "hybrid-qkd" in modes and peer.qkd != "off" and ctx.keysource is not None:
            known = ctx.known_unreachable(peer)
            mode = "hybrid-qkd"
            if known is not None and pqc_ok:
                qkd, mode = QkdResult(None, None, "peer_key_kme_unreachable", known), "pqc-only"
        else:
            if "hybrid-qkd" in modes:
                qkd = QkdResult(None, None, "policy_off")
            mode = "pqc-only"
        if mode == "pqc-only" and not pqc_ok:
            discard(qkd)
            raise PolicyError("qkd_required", f"ClientHello from {initiator}: no QKD key (cause: {qkd.cause}) "
                              f"and policy qkd={peer.qkd}, min_mode={peer.min_mode} forbid pqc-only")
        aeads = [a for a in (offer.get("aeads") or []) if a in AEADS]
        if not aeads:
            discard(qkd)
            raise HandshakeError("policy", f"ClientHello from {initiator}: no AEAD in common")
        aead = aeads[0]
        try:
            ss_raw, ct = primitives.xwing_encapsulate(f[CH_XWING_PK])
        except Exception as exc:  # noqa: BLE001 - a bad public key is the peer's fault
            discard(qkd)
            raise HandshakeError("malformed", f"ClientHello from {initiator}: X-Wing public key rejected "
                                 f"({type(exc).__name__})") from None
        ss = _secret(ss_raw)
        try:
            await asyncio.sleep(0)   # let the streams run between the encapsulation and our signature
        except BaseException:
            discard(qkd)
            wipe(ss)
            raise
        selection = _json({"mode": mode, "aead": aead, "policy": {"qkd": peer.qkd, "min_mode": peer.min_mode},
                           "qkd": {"redeemed": qkd.key is not None, "cause": None if mode == "hybrid-qkd"
                                   else qkd.cause}})
        core_fields = {SH_RESPONDER: ctx.site_id.encode(), SH_NONCE: secrets.token_bytes(32),
                       SH_CH_HASH: _h(msg1), SH_XWING_CT: ct, SH_SELECTION: selection}
        core = encode_message(MSG_SERVER_HELLO, core_fields)
        th2 = _h(msg1, core)
        common = {"mode": mode, "aead": aead, "nonce": nonce, "msg1": msg1, "offer": f[CH_OFFER],
                  "selection": selection, "modes": modes, "pqc_ok": pqc_ok, "qkd_offer": qkd_offer,
                  "cause": None if mode == "hybrid-qkd" else qkd.cause, "detail": qkd.detail}
        if self.in_session:
            okm = _schedule(mode=mode, xwing_ss=ss, qkd=qkd.key if mode == "hybrid-qkd" else None, psk=peer.psk,
                            th=th2, initiator=initiator, responder=ctx.site_id,
                            key_id=key_id if mode == "hybrid-qkd" else None, offer=f[CH_OFFER],
                            selection=selection, rekey_of=self.rekey_of)
            wipe(ss)
            discard(qkd)
            confirm_key = okm[CONFIRM_R]
        else:
            okm = _auth_schedule(xwing_ss=ss, psk=peer.psk, th2=th2, initiator=initiator, responder=ctx.site_id,
                                 offer=f[CH_OFFER], selection=selection)
            common["ss"] = ss
            confirm_key = okm[AUTH_CONFIRM_R]
        auth_r = _auth_tag(ctx, peer, b"qshift-gw/1 responder auth", th2)
        confirm_r = _confirm(confirm_key, b"qshift-gw/1 responder confirm", th2 + auth_r)
        msg2 = encode_message(MSG_SERVER_HELLO, {**core_fields, SH_AUTH: auth_r, SH_CONFIRM: confirm_r})
        self._pending = {**common, "okm": okm, "msg2": msg2, "th3": _h(msg1, msg2),
                         "key_id": key_id if mode == "hybrid-qkd" else None}
        return msg2

    async def _redeem(self, peer: PeerTrust, modes: list[str], qkd_offer: dict[str, Any], key_id: str | None,
                      qkd: QkdResult) -> QkdResult:
        """Redeem an authenticated initiator's key_ID at our KME (``dec_keys``); the result or its cause."""
        ctx = self.ctx
        if key_id is None:
            return qkd
        assert self.authenticated, "a key_ID is redeemed only for an authenticated initiator"
        if ctx.replay.key_id_seen(key_id):
            raise HandshakeError("key_id_reused", f"ClientHello from {peer.name}: QKD key_ID already used "
                                 "in another session")
        if peer.qkd == "off" or "hybrid-qkd" not in modes or ctx.keysource is None:
            return QkdResult(None, key_id, "policy_off")
        known = ctx.known_unreachable(peer)
        if known is not None:
            result = QkdResult(None, key_id, "kme_unreachable", known)
        else:
            result = await ctx.keysource.redeem(peer.sae_id or qkd_offer.get("sae_id") or "", key_id,
                                                ctx.kme_deadline_s(peer))
            ctx.learn(peer, result)
        if result.cause is not None:
            result.cause = "peer_key_" + result.cause
        return result

    async def complete(self, msg3: bytes) -> SessionKeys:
        if self.in_session:
            return self._complete(msg3)
        return await self._complete_first(msg3)

    def abandon(self) -> None:
        for name in ("okm", "ss"):
            buf = self._pending.get(name)
            if buf is not None:
                wipe(buf)

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
            self.abandon()
            self._pending = {}

    async def _complete_first(self, msg3: bytes) -> SessionKeys:
        """Verify Finish (the initiator is authenticated after it); only then record its nonce and
        key_ID, redeem the key_ID, pick the final mode and build the Result."""
        peer, p = self.peer, self._pending
        if peer is None or not p:
            raise HandshakeError("malformed", "Finish before ServerHello")
        ctx = self.ctx
        okm: bytearray = p["okm"]
        qkd: QkdResult | None = None
        try:
            try:
                f = decode_message(msg3, MSG_FINISH, {1, 2, 3}, {1, 2, 3}, "Finish")
            except ProtocolError as exc:
                raise HandshakeError("malformed", str(exc)) from None
            th3 = _h(p["msg1"], p["msg2"], encode_message(MSG_FINISH, {FI_QKD_BOX: f[FI_QKD_BOX]}))
            _check_auth(peer, b"qshift-gw/1 initiator auth", th3, f[FI_AUTH], "Finish")
            self.authenticated = True   # the initiator signed (or MACed) this very transcript
            expected = _confirm(okm[AUTH_CONFIRM_I], b"qshift-gw/1 initiator confirm", th3 + f[FI_AUTH])
            if not hmac.compare_digest(expected, f[FI_CONFIRM]):
                raise HandshakeError("bad_confirmation", f"Finish: key confirmation from {peer.name} fails")
            if ctx.replay.nonce_seen(p["nonce"]):
                raise HandshakeError("replayed", f"ClientHello from {peer.name}: nonce already seen (replayed)")
            try:
                plain = primitives.open_box(okm[AUTH_BOX], b"qshift-gw/1 qkd box" + p["th3"], f[FI_QKD_BOX])
            except ProtocolError as exc:
                raise HandshakeError("malformed", f"Finish from {peer.name}: QKD box: {exc}") from None
            box = _unjson(plain, "Finish QKD box")
            key_id, cause = box.get("key_id"), box.get("cause")
            if key_id is not None and (not isinstance(key_id, str) or not 0 < len(key_id) <= 128):
                raise HandshakeError("malformed", f"Finish from {peer.name}: key_id must be a string of 1..128 "
                                     "characters or null")
            mode = p["mode"]
            if mode == "hybrid-qkd":
                qkd = QkdResult(None, None, known_cause(cause if isinstance(cause, str) else None) or "unknown")
                qkd = await self._redeem(peer, p["modes"], p["qkd_offer"], key_id, qkd)
                if qkd.key is None:
                    if not p["pqc_ok"]:
                        raise PolicyError("qkd_required", f"Finish from {peer.name}: no QKD key (cause: "
                                          f"{qkd.cause}) and policy qkd={peer.qkd}, min_mode={peer.min_mode} "
                                          "forbid pqc-only")
                    mode = "pqc-only"
            elif key_id is not None:
                raise HandshakeError("policy", f"Finish from {peer.name}: a key_ID for a pqc-only selection")
            result_cause = None if mode == "hybrid-qkd" else (qkd.cause if qkd is not None else p["cause"])
            result = _json({"mode": mode, "cause": result_cause})
            final = _schedule(mode=mode, xwing_ss=p["ss"], qkd=qkd.key if qkd is not None and mode == "hybrid-qkd"
                              else None, psk=peer.psk, th=th3, initiator=peer.name, responder=ctx.site_id,
                              key_id=key_id if mode == "hybrid-qkd" else None, offer=p["offer"],
                              selection=p["selection"], rekey_of=self.rekey_of)
            try:
                confirm = _confirm(final[CONFIRM_R], b"qshift-gw/1 responder result", th3 + result)
                self.result_message = encode_message(MSG_RESULT, {RS_RESULT: result, RS_CONFIRM: confirm})
                detail = (qkd.detail if qkd is not None else p["detail"]) if mode != "hybrid-qkd" else None
                return _keys(final, "responder", aead=p["aead"], mode=mode,
                             key_id=key_id if mode == "hybrid-qkd" else None, cause=result_cause,
                             cause_detail=detail, session_id=_h(p["msg1"], th3, self.result_message),
                             peer=peer.name)
            finally:
                wipe(final)
        finally:
            if qkd is not None:
                discard(qkd)
            self.abandon()
            self._pending = {}
