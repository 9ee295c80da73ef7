"""Finding 13 (issue 15): the KME's ``/metrics`` and ``deploy/observability/`` - the alert rules pass
``promtool check rules`` and ``promtool test rules``, and every metric an expression or a dashboard panel uses
is one the code exports (a real KME's page, the gateway's registry, the link runtime's registry)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest
import yaml

from qkd.kms.metrics import KmeMetrics, merge_families

OBS = Path(__file__).resolve().parents[2] / "deploy" / "observability"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package "
                                                                "`prometheus`; .ci/run installs it)")

# what the link runtime exports (qkd/runtime/state.py); the brief's list when that module is absent
LINK_RUNTIME_EXPECTED = {"qkd_link_state", "qkd_link_failures_total", "qkd_link_blocks_total",
                         "qkd_link_auth_key_consumed_bits_total", "qkd_link_auth_key_produced_bits_total",
                         "qkd_link_alarm"}
PROMETHEUS_BUILTIN = {"up"}
_PROMQL_WORDS = {"sum", "min", "max", "avg", "count", "by", "without", "on", "ignoring", "group_left",
                 "group_right", "and", "or", "unless", "bool", "offset", "rate", "increase", "irate", "delta",
                 "clamp_min", "clamp_max", "abs", "topk", "bottomk", "histogram_quantile", "inf", "nan"}


def promql_metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (strings, label matchers, groupings and ranges removed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", e):
        name, call = m.group(1), m.group(2)
        if call or name in _PROMQL_WORDS:
            continue
        names.add(name)
    return names


def rule_exprs() -> list[str]:
    doc = yaml.safe_load((OBS / "qshift-alerts.yml").read_text())
    return [r["expr"] for g in doc["groups"] for r in g["rules"]]


def dashboard_exprs() -> list[str]:
    out = []

    def walk(panels):
        for p in panels:
            out.extend(t["expr"] for t in p.get("targets", []) if "expr" in t)
            walk(p.get("panels", []))
    walk(json.loads((OBS / "qshift-dashboard.json").read_text())["panels"])
    return out


def type_names(text: str) -> set[str]:
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def link_runtime_names() -> set[str]:
    try:
        from qkd.runtime.state import METRIC_HELP
    except ImportError:
        return set(LINK_RUNTIME_EXPECTED)
    return set(METRIC_HELP)


@needs_promtool
def test_alert_rules_pass_promtool_check_and_their_unit_tests():
    for args in (["check", "rules", "qshift-alerts.yml"], ["test", "rules", "qshift-alerts.test.yml"],
                 ["check", "config", "--syntax-only", "prometheus.yml"]):
        run = subprocess.run([PROMTOOL, *args], cwd=OBS, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, f"promtool {' '.join(args)}:\n{run.stdout}\n{run.stderr}"


def test_every_alert_of_the_issue_has_a_rule_and_a_unit_test():
    alerts = {r["alert"] for g in yaml.safe_load((OBS / "qshift-alerts.yml").read_text())["groups"] for r in g["rules"]}
    assert {"QkdLinkAlarm", "TunnelPqcOnly", "QkdKeyPoolLow", "KmeUnreachable", "TunnelHandshakeFailures",
            "QkdAuthKeyBudget", "KmeRelayFailures"} <= alerts
    tested = {t["alertname"] for case in yaml.safe_load((OBS / "qshift-alerts.test.yml").read_text())["tests"]
              for t in case.get("alert_rule_test", [])}
    assert alerts == tested


async def test_every_metric_the_rules_and_dashboard_use_is_exported(kme, pki):
    # a real KME's page, after a refused request, so that every family of the KME shows
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=pki.client_context("SAE_A"))) as s:
        async with s.get(kme.url + "/api/v1/keys/SAE_NOBODY/status") as resp:
            assert resp.status == 400
        async with s.get(kme.url + "/metrics") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
            kme_page = await resp.text()
    from gateway.metrics import GatewayMetrics
    gateway = type_names(GatewayMetrics().render().decode())
    exported = type_names(kme_page) | gateway | link_runtime_names() | PROMETHEUS_BUILTIN
    used = {n for e in rule_exprs() + dashboard_exprs() for n in promql_metric_names(e)}
    assert used, "no metric names parsed"
    assert sorted(used - exported) == []
    assert any(n.startswith("gateway_") for n in used) and any(n.startswith("qkd_kme_") for n in used)
    assert LINK_RUNTIME_EXPECTED <= link_runtime_names()


def test_the_metric_name_parser_sees_metrics_and_not_functions_labels_or_groupings():
    expr = ('sum by (instance, peer) (rate(gateway_handshake_failures_total{reason!="x"}[10m])) > 0.25 * '
            'max by (link) (qkd_link_alarm) == 1 or up{job="qkd-kme"} == 0')
    assert promql_metric_names(expr) == {"gateway_handshake_failures_total", "qkd_link_alarm", "up"}


async def test_the_kme_page_shows_pools_links_keys_and_api_errors_and_needs_a_certificate(kme, pki):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=pki.client_context("SAE_B"))) as s:
        async with s.get(kme.url + "/api/v1/keys/SAE_A/dec_keys?key_ID=nope") as resp:
            assert resp.status == 400
        async with s.get(kme.url + "/metrics") as resp:
            page = await resp.text()
    assert 'qkd_kme_pool_stored_bits{node="KME_A",pool="local",kind="local"} 65536' in page
    assert 'qkd_kme_link_alarm{node="KME_A",link="local"} 0' in page
    assert ('qkd_kme_api_errors_total{node="KME_A",endpoint="/api/v1/keys/{master_SAE_ID}/dec_keys",'
            'status="400",reason="bad_request"} 1') in page
    assert "SAE_A" not in page and "SAE_B" not in page      # no SAE IDs, no key_IDs, no key material
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=pki.client_context(None))) as s:
        with pytest.raises(aiohttp.ClientError):           # no certificate: the TLS handshake is refused
            async with s.get(kme.url + "/metrics"):
                pass


def test_sections_merge_each_family_once_and_a_failing_section_is_counted(tmp_path):
    from qkd.kms.masterkey import Sealer, load_or_create
    from qkd.kms.store import KeyStore
    store = KeyStore(tmp_path / "s.sqlite", Sealer(load_or_create(tmp_path / "m.key")))
    metrics = KmeMetrics("KME_A", store)

    def end(link: str):
        return lambda: ["# HELP qkd_link_alarm alarm", "# TYPE qkd_link_alarm gauge",
                        f'qkd_link_alarm{{link="{link}"}} 0']
    metrics.register_section("link:A-T", end("A-T"))
    metrics.register_section("link:T-B", end("T-B"))
    metrics.register_section("broken", lambda: 1 / 0)
    page = metrics.render()
    assert page.count("# TYPE qkd_link_alarm gauge") == 1
    assert 'qkd_link_alarm{link="A-T"} 0\nqkd_link_alarm{link="T-B"} 0' in page
    assert 'qkd_kme_metrics_section_errors_total{node="KME_A",section="broken"} 1' in page
    assert merge_families(["a 1", "# TYPE a counter", "b 2", "a 3"]) == ["# TYPE a counter", "a 1", "a 3", "b 2"]
    store.close()


def test_the_link_runtime_section_is_registered_on_the_kme_page():
    """The lead's link runtime registers its section through ``KmeService.metrics.register_section``."""
    root = Path(__file__).resolve().parents[2] / "qkd"
    users = [p for p in root.rglob("*.py") if p.name != "metrics.py" and "register_section(" in p.read_text()]
    if not users:
        pytest.skip("the link runtime does not register its metrics section on the KME's /metrics yet "
                    "(KmeService.metrics.register_section); its names are checked against qkd/runtime/state.py")
