"""Prometheus text exposition of one KME (``GET /metrics``): pools, key deliveries, relay, API, links.

Families (every sample carries ``node``; labels are pool, link, hop, endpoint and reason names - never key
material, key_IDs or SAE IDs):

* pools: ``qkd_kme_pool_stored_bits``, ``qkd_kme_pool_capacity_bits``, ``qkd_kme_pool_deposited_bits_total``,
  ``qkd_kme_pool_consumed_bits_total``, ``qkd_kme_pool_discarded_bits_total``,
  ``qkd_kme_pool_oldest_key_age_seconds`` (``pool``, ``kind``);
* links as this node sees them: ``qkd_kme_link_alarm`` (1 when either direction's pool is alarmed),
  ``qkd_kme_link_qber`` (``link``; ``local`` for the local pool);
* keys: ``qkd_kme_keys`` (``role``, ``state``: delivery records now), ``qkd_kme_keys_expired_total``
  (``state`` the key left: ``pending`` orphans, ``in_doubt``), ``qkd_kme_keys_in_doubt_redelivered_total``,
  ``qkd_kme_keys_in_doubt_at_open_total``, ``qkd_kme_keys_quarantined_at_open_total``
  (see :mod:`qkd.kms.store` for the states);
* relay: ``qkd_kme_relays_total`` (``outcome``), ``qkd_kme_relay_failures_total`` (``failed_hop``, ``reason``);
* API: ``qkd_kme_api_requests_total`` (``endpoint``, ``status``), ``qkd_kme_api_errors_total``
  (``endpoint``, ``status``, ``reason``), ``qkd_kme_http_timeouts_total`` (``phase``: ``header``,
  ``body``), ``qkd_kme_tls_handshake_failures_total`` (``reason``: OpenSSL's reason code);
* ``qkd_kme_metrics_section_errors_total`` (``section``): a registered section that raised.

Store figures are read at scrape time (the store is shared by a node's worker processes); counters of
requests, errors and relays are per process (a scrape sees the worker that answered; Prometheus sums).

**Sections** (:meth:`KmeMetrics.register_section`): any part of the node - the link runtime's link ends -
adds its own families as a callable returning lines of the text format (``# HELP``, ``# TYPE`` and sample
lines). The renderer merges the lines of every section by family, so several link ends may each return
their ``qkd_link_state{link=...}`` samples with the same ``# HELP``/``# TYPE`` lines and the output still
names each family once. A section that raises is left out of that scrape and counted.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qkd.kms.store import KeyStore

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Section = Callable[[], Iterable[str]]

_SAMPLE_NAME = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)")
_SUFFIXES = ("_bucket", "_sum", "_count", "_created")


def escape_label(value: str) -> str:
    """A label value in the text format: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def sample_line(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    """One sample line, ``name{a="x",b="y"} value``."""
    if labels:
        inner = ",".join(f'{k}="{escape_label(str(v))}"' for k, v in labels.items())
        name = f"{name}{{{inner}}}"
    if isinstance(value, bool):
        value = int(value)
    return f"{name} {value!r}" if isinstance(value, float) else f"{name} {value}"


class Family:
    """One metric family being rendered: ``# HELP``, ``# TYPE`` and its samples."""

    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.name = name
        self.kind = kind
        self.help = help_text
        self.samples: list[str] = []

    def add(self, value: float, **labels: str) -> None:
        self.samples.append(sample_line(self.name, value, labels))

    def lines(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}", *self.samples]


def merge_families(lines: Iterable[str]) -> list[str]:
    """Group text-format lines by family: each family's HELP and TYPE once (the first given), then all its
    samples, families in order of first appearance. Samples of an undeclared family keep their own name."""
    order: list[str] = []
    head: dict[str, dict[str, str]] = {}
    samples: dict[str, list[str]] = {}
    declared: set[str] = set()

    def family_of(sample_name: str) -> str:
        if sample_name in declared:
            return sample_name
        for suffix in _SUFFIXES:
            if sample_name.endswith(suffix) and sample_name[:-len(suffix)] in declared:
                return sample_name[:-len(suffix)]
        return sample_name

    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                declared.add(name)
                head.setdefault(name, {}).setdefault(parts[1], line)
                if name not in samples:
                    samples[name] = []
                    order.append(name)
            continue
        m = _SAMPLE_NAME.match(line)
        if m is None:
            continue
        fam = family_of(m.group(1))
        if fam not in samples:
            samples[fam] = []
            order.append(fam)
        samples[fam].append(line)
    out: list[str] = []
    for name in order:
        h = head.get(name, {})
        out += [h[k] for k in ("HELP", "TYPE") if k in h]
        out += samples[name]
    return out


class KmeMetrics:
    """Counters of one KME process and the renderer of its ``/metrics`` page."""

    content_type = CONTENT_TYPE

    def __init__(self, node: str, store: KeyStore) -> None:
        self.node = node
        self.store = store
        self.api_requests: Counter[tuple[str, int]] = Counter()         # (endpoint, status)
        self.api_errors: Counter[tuple[str, int, str]] = Counter()      # (endpoint, status, reason)
        self.relays: Counter[str] = Counter()                           # outcome
        self.relay_failures: Counter[tuple[str, str]] = Counter()       # (failed_hop, reason)
        self.http_timeouts: Counter[str] = Counter()                    # phase
        self.tls_failures: Counter[str] = Counter()                     # OpenSSL reason
        self.section_errors: Counter[str] = Counter()
        self._sections: dict[str, Section] = {}

    # ---------------------------------------------------------------- counting
    def count_response(self, endpoint: str, status: int, reason: str | None = None) -> None:
        """One answered request (``reason`` for errors: the ETSI ``details[0].reason`` or a status name)."""
        self.api_requests[(endpoint, status)] += 1
        if status >= 400:
            self.api_errors[(endpoint, status, reason or "error")] += 1

    def count_relay(self, ok: bool, failed_hop: str | None = None, reason: str | None = None, *,
                    started: bool = True) -> None:
        """A relay this node started (``started``) or forwarded ended; failures counted by hop and reason."""
        if started:
            self.relays["ok" if ok else "failed"] += 1
        if not ok:
            self.relay_failures[(failed_hop or "unknown", reason or "relay_failed")] += 1

    # ---------------------------------------------------------------- sections
    def register_section(self, name: str, section: Section) -> None:
        """Add ``section`` (a callable returning text-format lines) to every scrape under ``name``; a later
        registration under the same name replaces it."""
        self._sections[name] = section

    def unregister_section(self, name: str) -> None:
        self._sections.pop(name, None)

    # ---------------------------------------------------------------- rendering
    def families(self) -> list[Family]:
        node = self.node
        fams: dict[str, Family] = {}

        def fam(name: str, kind: str, help_text: str) -> Family:
            f = fams[name] = Family(name, kind, help_text)
            return f

        stored = fam("qkd_kme_pool_stored_bits", "gauge", "Key stored in the pool and not yet consumed (bits)")
        cap = fam("qkd_kme_pool_capacity_bits", "gauge", "Capacity of the pool (bits)")
        dep = fam("qkd_kme_pool_deposited_bits_total", "counter", "Key deposited into the pool (bits)")
        con = fam("qkd_kme_pool_consumed_bits_total", "counter", "Key consumed from the pool (bits)")
        dis = fam("qkd_kme_pool_discarded_bits_total", "counter",
                  "Pool key discarded because the peer burned it in a failed relay (bits)")
        age = fam("qkd_kme_pool_oldest_key_age_seconds", "gauge", "Age of the oldest key stored in the pool")
        alarm = fam("qkd_kme_link_alarm", "gauge", "1 when a direction of the link is alarmed at this node")
        qber = fam("qkd_kme_link_qber", "gauge", "QBER last reported with the link's alarm state (fraction)")
        links: dict[str, tuple[bool, float | None]] = {}
        for p in self.store.metrics(rates=False):
            labels = {"node": node, "pool": p.name, "kind": p.kind}
            stored.add(p.stored_bits, **labels)
            cap.add(p.capacity_bits, **labels)
            dep.add(p.deposited_bits_total, **labels)
            con.add(p.consumed_bits_total, **labels)
            dis.add(p.discarded_bits_total, **labels)
            if p.oldest_age_s is not None:
                age.add(round(p.oldest_age_s, 3), **labels)
            link = p.name.split(":", 1)[0]
            was_alarm, was_qber = links.get(link, (False, None))
            q = max((x for x in (was_qber, p.qber) if x is not None), default=None)
            links[link] = (was_alarm or p.alarm, q)
        for link, (a, q) in sorted(links.items()):
            alarm.add(int(a), node=node, link=link)
            if q is not None:
                qber.add(float(q), node=node, link=link)

        keys = fam("qkd_kme_keys", "gauge", "Key delivery records by role and state")
        for role_state, n in sorted(self.store.delivery_counts().items()):
            role, state = role_state.split(":", 1)
            keys.add(n, node=node, role=role, state=state)
        life = self.store.lifecycle_counts()
        expired = fam("qkd_kme_keys_expired_total", "counter",
                      "Slave deliveries destroyed past their deadline, by the state they left")
        expired.add(life["expired_pending"], node=node, state="pending")
        expired.add(life["expired_in_doubt"], node=node, state="in_doubt")
        fam("qkd_kme_keys_in_doubt_redelivered_total", "counter",
            "In-doubt keys redeemed again by their slave SAE").add(life["in_doubt_redelivered"], node=node)
        fam("qkd_kme_keys_in_doubt_at_open_total", "counter",
            "Slave reservations found in doubt when the store was opened after a crash").add(
            life["in_doubt_at_open"], node=node)
        fam("qkd_kme_keys_quarantined_at_open_total", "counter",
            "Master reservations quarantined when the store was opened after a crash").add(
            life["quarantined_at_open"], node=node)

        relays = fam("qkd_kme_relays_total", "counter", "Relays this node started, by outcome")
        for outcome in ("ok", "failed"):
            relays.add(self.relays[outcome], node=node, outcome=outcome)
        rf = fam("qkd_kme_relay_failures_total", "counter",
                 "Relays this node started or forwarded that failed, by failed hop and reason")
        for (hop, reason), n in sorted(self.relay_failures.items()):
            rf.add(n, node=node, failed_hop=hop, reason=reason)
        req = fam("qkd_kme_api_requests_total", "counter", "Answered API requests by endpoint and status")
        for (endpoint, status), n in sorted(self.api_requests.items()):
            req.add(n, node=node, endpoint=endpoint, status=str(status))
        err = fam("qkd_kme_api_errors_total", "counter", "Error answers by endpoint, status and reason")
        for (endpoint, status, reason), n in sorted(self.api_errors.items()):
            err.add(n, node=node, endpoint=endpoint, status=str(status), reason=reason)
        to = fam("qkd_kme_http_timeouts_total", "counter",
                 "Connections closed because a request's headers or body did not arrive in time")
        for phase in ("header", "body"):
            to.add(self.http_timeouts[phase], node=node, phase=phase)
        tls = fam("qkd_kme_tls_handshake_failures_total", "counter",
                  "Refused TLS handshakes (bad or missing client certificate, not TLS, ...) by reason")
        for reason, n in sorted(self.tls_failures.items()):
            tls.add(n, node=node, reason=reason)
        return list(fams.values())

    def render(self) -> str:
        """The whole page: this node's families, then every registered section (merged by family)."""
        lines: list[str] = []
        for f in self.families():
            lines += f.lines()
        extra: list[str] = []
        for name, section in list(self._sections.items()):
            try:
                extra += [str(x) for x in section()]
            except Exception as exc:  # noqa: BLE001 - a broken section must not take the page down
                self.section_errors[name] += 1
                log.warning("metrics section failed", extra={"event": "kms.metrics.section_failed",
                                                             "section": name, "error": type(exc).__name__})
        se = Family("qkd_kme_metrics_section_errors_total", "counter", "Scrapes in which a metrics section raised")
        for name, n in sorted(self.section_errors.items()):
            se.add(n, node=self.node, section=name)
        lines += se.lines()
        lines += merge_families(extra)
        return "\n".join(lines) + "\n"
