"""HTML report: counts never clipped, filter box, grouping by asset and by location, endpoint details,
10^4 assets, and a 1400 px layout checked in headless Chromium when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from inventory.report import html

STATUSES = ["broken-by-shor", "classically-broken", "weakened-by-grover", "quantum-safe", "hybrid", "unknown"]
PRIORITIES = ["critical", "high", "medium", "low", "review", "none"]

TLS_DETAILS = {"id": "tls://bank.example:443", "protocol": "tls", "endpoint": "bank.example:443",
               "versions": ["TLSv1.2", "TLSv1.3"], "cipher_suites": ["TLS_AES_128_GCM_SHA256"],
               "groups": ["X25519", "X25519MLKEM768"],
               "default_negotiation": {"version": "TLSv1.3", "cipher_suite": "TLS_AES_128_GCM_SHA256",
                                       "group": "X25519MLKEM768"}}


def _asset(i: int, where: str, status: str, priority: str, **extra) -> dict:
    return {"key": f"algorithm:A{i}", "name": extra.pop("name", f"ALG-{i}"), "asset_type": extra.pop("asset_type",
                                                                                                     "algorithm"),
            "details": extra.pop("details", {}),
            "risk": {"status": status, "priority": priority, "score": 100 - PRIORITIES.index(priority) * 15,
                     "deadline": 2030, "recommendation": "replace with ML-KEM-768 (hybrid X25519MLKEM768 in TLS)"},
            "occurrences": [{"where": where, "source": "python", "confidence": 0.9, "raw": "x", "context": ""}]}


def make_doc(n: int) -> dict:
    assets = [_asset(i, f"src/very/long/directory/name/module_{i % 97}.py:{i % 400 + 1}:5", STATUSES[i % 6],
                     PRIORITIES[i % 6]) for i in range(n)]
    assets.append(_asset(n, "tls://bank.example:443", "broken-by-shor", "high", name="TLS bank.example:443",
                         asset_type="protocol", details=TLS_DETAILS))
    by_status: dict[str, int] = {}
    by_priority: dict[str, int] = {}
    for a in assets:
        by_status[a["risk"]["status"]] = by_status.get(a["risk"]["status"], 0) + 1
        by_priority[a["risk"]["priority"]] = by_priority.get(a["risk"]["priority"], 0) + 1
    return {"policy": "nist", "generated": "2026-12-06T00:00:00Z",
            "summary": {"assets": len(assets), "findings": len(assets) * 3, "skipped": 12345,
                        "by_status": by_status, "by_source": {"python": n, "tls": 1}, "by_priority": by_priority},
            "assets": assets, "skipped": [{"path": "x.bin", "reason": "binary"}]}


def test_headline_counts_are_text_that_cannot_be_clipped() -> None:
    doc = make_doc(257)
    page = html.render(doc)
    cards = re.findall(r'<b class="count">([^<]*)</b>', page)
    assert "258" in cards and "774" in cards and "12345" in cards


def test_bar_chart_counts_fit_inside_their_svg() -> None:
    page = html.render(make_doc(9999))
    for svg in re.findall(r"<svg[^>]*>.*?</svg>", page):
        width = int(re.search(r'width="(\d+)"', svg).group(1))
        counts = re.findall(r'<text class="count" x="(\d+)"[^>]*>(\d+)</text>', svg)
        assert counts
        for x, text in counts:
            assert int(x) + len(text) * html._CHAR_PX <= width, (x, text, width)


def test_page_has_a_filter_box_and_both_groupings_with_every_asset() -> None:
    doc = make_doc(50)
    page = html.render(doc)
    assert '<input type="search" id="q"' in page and '<select id="p">' in page
    by_asset = page.split('id="by-asset"')[1].split('id="by-location"')[0]
    by_location = page.split('id="by-location"')[1]
    for a in doc["assets"]:
        assert f"<b>{a['name']}</b>" in by_asset and f"<b>{a['name']}</b>" in by_location
    assert "src/very/long/directory/name/module_3.py" in by_location and "tls://bank.example:443" in by_location


def test_endpoint_details_show_versions_suites_and_groups() -> None:
    page = html.render(make_doc(3))
    for text in ("TLSv1.2, TLSv1.3", "TLS_AES_128_GCM_SHA256", "X25519, X25519MLKEM768",
                 "version: TLSv1.3, cipher_suite: TLS_AES_128_GCM_SHA256, group: X25519MLKEM768"):
        assert text in page


def test_location_of_strips_line_column_and_frame_but_not_a_port() -> None:
    assert html.location_of("src/a.py:12:5") == "src/a.py"
    assert html.location_of("cap.pcapng:frame 7") == "cap.pcapng"
    assert html.location_of("tls://h:443") == "tls://h:443"


def test_ten_thousand_assets_render_in_seconds() -> None:
    doc = make_doc(10_000)
    t0 = time.perf_counter()
    page = html.render(doc)
    assert time.perf_counter() - t0 < 5
    assert page.count('class="row"') == 2 * 10_001


_CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)

_PROBE = """<script>
(function(){
  var out=[];
  if(document.documentElement.scrollWidth>1400) out.push('page '+document.documentElement.scrollWidth+'px wide');
  document.querySelectorAll('svg').forEach(function(svg){
    var w=svg.width.baseVal.value;
    svg.querySelectorAll('text').forEach(function(t){var b=t.getBBox();
      if(b.x+b.width>w+0.5) out.push('clipped '+t.textContent+' '+(b.x+b.width)+'>'+w);});});
  document.querySelectorAll('.card b').forEach(function(b){
    if(b.scrollWidth>b.clientWidth) out.push('card clipped '+b.textContent);});
  var q=document.getElementById('q');q.value='module_3.py';q.dispatchEvent(new Event('input'));
  var shown=document.querySelectorAll('#by-asset tr.row:not(.hidden)').length;
  document.body.setAttribute('data-probe', out.join('; ')||'ok');
  document.body.setAttribute('data-shown', String(shown));
})();
</script></body>"""


@pytest.mark.skipif(_CHROMIUM is None, reason="headless Chromium is not installed")
def test_page_at_1400px_in_headless_chromium_fits_and_filters(tmp_path: Path) -> None:
    doc = make_doc(2000)
    page = html.render(doc)
    (tmp_path / "report.html").write_text(page)
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", _PROBE))
    base = [_CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000"]
    dom = subprocess.run([*base, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert 'data-probe="ok"' in dom, re.search(r'data-probe="([^"]*)"', dom)
    expected = sum(1 for a in doc["assets"] if "module_3.py" in a["occurrences"][0]["where"])
    assert f'data-shown="{expected}"' in dom
    shot = tmp_path / "report.png"
    subprocess.run([*base, f"--screenshot={shot}", (tmp_path / "report.html").as_uri()], capture_output=True,
                   timeout=120)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(shot.read_bytes()[16:20], "big") == 1400
