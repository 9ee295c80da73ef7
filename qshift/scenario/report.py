"""Scenario outputs: JUnit XML (for CI), JSON (stable keys), and a self-contained HTML report with plots.

The HTML embeds PNG plots (matplotlib, Agg backend) as data URIs so it opens from a file with no network:
QBER vs time and key pool vs time per link, and tunnel mode vs time with the faults marked.
"""

from __future__ import annotations

import base64
import html
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from qshift.scenario.assertions import AssertionResult
from qshift.scenario.record import LinkSample, RunRecord

_MODE_LEVEL = {"down": 0, "pqc-only": 1, "hybrid-qkd": 2}


def junit_xml(record: RunRecord, results: list[AssertionResult]) -> str:
    """One ``<testsuite>`` named after the scenario, one ``<testcase>`` per assertion."""
    failures = sum(1 for r in results if not r.passed)
    suite = ET.Element(
        "testsuite",
        name=f"fallback-test.{record.scenario}",
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{record.duration_s:.3f}",
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"scenario.{record.scenario}", name=r.name)
        if r.passed:
            ET.SubElement(case, "system-out").text = r.message
        else:
            ET.SubElement(case, "failure", message=r.message, type="AssertionFailed").text = r.message
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def result_json(record: RunRecord, results: list[AssertionResult]) -> dict[str, object]:
    return {
        "scenario": record.scenario,
        "passed": all(r.passed for r in results),
        "assertions": [{"name": r.name, "passed": r.passed, "message": r.message} for r in results],
        "run": record.to_dict(),
    }


def _png(fig: object) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")  # type: ignore[attr-defined]
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def plots(record: RunRecord) -> dict[str, str]:
    """Base64 PNGs: ``qber``, ``pool`` and ``mode`` against time (s)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = [s.t_s for s in record.samples]
    link_names = sorted({name for s in record.samples for name in s.links})
    fault_times = [(e.t_s, e.kind) for e in record.events if e.source != "tunnel" and e.kind.startswith("fault:")]
    out: dict[str, str] = {}

    def mark_faults(ax: object) -> None:
        for t, _kind in fault_times:
            ax.axvline(t, color="red", linestyle=":", linewidth=1)  # type: ignore[attr-defined]

    def per_link(value: Callable[[LinkSample], float | None], ylabel: str, title: str) -> str:
        """One line per link of ``value`` (NaN where a link has no sample or no value) against time."""
        fig, ax = plt.subplots(figsize=(8, 3))
        for name in link_names:
            ys = [value(s.links[name]) if name in s.links else None for s in record.samples]
            ax.plot(times, [float("nan") if y is None else y for y in ys], label=name)
        ax.set_xlabel("time (s)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        mark_faults(ax)
        ax.legend()
        png = _png(fig)
        plt.close(fig)
        return png

    out["qber"] = per_link(lambda link: None if link.qber is None else 100 * link.qber, "QBER (%)",
                           "Estimated QBER per link")
    out["pool"] = per_link(lambda link: link.pool_bits / 8, "key pool (bytes)", "Key pool per link")

    fig, ax = plt.subplots(figsize=(8, 2.5))
    # the mode from the first observation on (traffic starts once the tunnel is up: no "down" is invented at 0)
    changes = record.mode_changes or [(0.0, "down", "")]
    mode_times = [t for t, _, _ in changes] + [record.duration_s]
    levels = [_MODE_LEVEL.get(m, 0) for _, m, _ in changes]
    ax.step(mode_times, levels + [levels[-1]], where="post")
    ax.set_yticks(list(_MODE_LEVEL.values()), list(_MODE_LEVEL.keys()))
    ax.set_xlabel("time (s)")
    ax.set_title("Tunnel mode")
    mark_faults(ax)
    out["mode"] = _png(fig)
    plt.close(fig)
    return out


def html_report(record: RunRecord, results: list[AssertionResult]) -> str:
    """A single self-contained HTML page: verdict, assertions, plots, timeline, streams."""
    images = plots(record)
    verdict = "PASS" if all(r.passed for r in results) else "FAIL"
    esc = html.escape
    rows = "".join(
        f"<tr class={'ok' if r.passed else 'bad'}><td>{'pass' if r.passed else 'FAIL'}</td>"
        f"<td>{esc(r.name)}</td><td>{esc(r.message)}</td></tr>"
        for r in results
    )
    timeline = "".join(
        f"<tr><td>{e.t_s:.2f}</td><td>{esc(e.source)}</td><td>{esc(e.kind)}</td><td>{esc(e.detail)}</td></tr>"
        for e in record.events
    )
    streams = "".join(
        f"<tr class={'ok' if s.intact else 'bad'}><td>{s.stream_id}</td><td>{s.bytes_sent}</td>"
        f"<td>{s.bytes_received}</td><td><code>{s.sha256_received[:16]}</code></td>"
        f"<td>{s.longest_stall_s:.3f}</td></tr>"
        for s in record.streams
    )
    figures = "".join(
        f'<figure><img alt="{name} vs time" src="data:image/png;base64,{data}"></figure>'
        for name, data in images.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qshift fallback report: {esc(record.scenario)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.2em .6em}} .ok td:first-child{{color:#070}} .bad td:first-child{{color:#b00}}
h1 span{{color:{'#070' if verdict == 'PASS' else '#b00'}}}</style></head><body>
<h1>{esc(record.scenario)}: <span>{verdict}</span></h1>
<p>seed {record.seed}, {record.duration_s:.1f} s</p>
<h2>Assertions</h2><table><tr><th></th><th>assertion</th><th>observed</th></tr>{rows}</table>
<h2>Plots</h2>{figures}
<h2>Timeline</h2><table><tr><th>t (s)</th><th>source</th><th>event</th><th>detail</th></tr>{timeline}</table>
<h2>Streams</h2><table><tr><th>stream</th><th>sent (B)</th><th>received (B)</th><th>SHA-256</th>
<th>longest stall (s)</th></tr>{streams}</table>
</body></html>
"""


def write_outputs(directory: Path, record: RunRecord, results: list[AssertionResult]) -> dict[str, Path]:
    """Write ``report.html``, ``result.json`` and ``junit.xml`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "html": directory / "report.html",
        "json": directory / "result.json",
        "junit": directory / "junit.xml",
    }
    paths["html"].write_text(html_report(record, results), encoding="utf-8")
    paths["json"].write_text(json.dumps(result_json(record, results), indent=2) + "\n", encoding="utf-8")
    paths["junit"].write_text(junit_xml(record, results), encoding="utf-8")
    return paths
