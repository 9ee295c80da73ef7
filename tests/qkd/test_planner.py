"""The network planner (qkd.planner): link rates from the closed forms, end-to-end trusted-node rates by
max-flow, bounds per route, a repeater-chain comparison, trusted-node placement and infeasible targets."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest

from qkd.physics.keyrate import optimal_mu, plob_bound
from qkd.physics.presets import theory_preset
from qkd.planner import PlannerError, load_topology, plan_network
from qkd.planner.picture import network_figure
from qkd.planner.rates import dual_downlink, dual_downlink_pass, fibre_rate
from qkd.planner.repeater import FIBRE_LIGHT_SPEED_KM_S, repeater_chain_rate
from qkd.planner.topology import Link, RepeaterMemory, parse_topology

CLOCK = 1e9


def topo(nodes: list[tuple[str, str]], links: list[dict], targets: list[dict]) -> dict:
    return {"clock_rate_hz": CLOCK, "nodes": [{"name": n, "kind": k} for n, k in nodes], "links": links,
            "targets": targets}


def bb84(length_km: float) -> float:
    return optimal_mu(theory_preset("lim2014"), length_km)[1] * CLOCK


def test_a_fibre_link_rate_is_the_decoy_closed_form_at_the_optimal_intensity() -> None:
    plan = plan_network(parse_topology(topo([("a", "site"), ("b", "site")],
                                            [{"a": "a", "b": "b", "length_km": 50}], [])))
    assert plan.links[0].rate_bps == pytest.approx(bb84(50), rel=1e-9)
    assert plan.links[0].transmittance == pytest.approx(10 ** (-0.2 * 50 / 10))
    # attenuation from the link overrides the preset's
    lossy = plan_network(parse_topology(topo([("a", "site"), ("b", "site")],
                                             [{"a": "a", "b": "b", "length_km": 50, "loss_db_per_km": 0.3}], [])))
    assert lossy.links[0].rate_bps == pytest.approx(bb84(75), rel=1e-6)


def test_end_to_end_rate_is_the_max_flow_over_trusted_nodes_and_sites_do_not_relay() -> None:
    nodes = [("a", "site"), ("b", "site"), ("t1", "trusted"), ("t2", "trusted"), ("s", "site")]
    links = [{"a": "a", "b": "t1", "length_km": 40}, {"a": "t1", "b": "b", "length_km": 90},
             {"a": "a", "b": "t2", "length_km": 120}, {"a": "t2", "b": "b", "length_km": 30},
             {"a": "a", "b": "s", "length_km": 5}, {"a": "s", "b": "b", "length_km": 5}]
    plan = plan_network(parse_topology(topo(nodes, links, [{"a": "a", "b": "b", "min_key_rate_bps": 1.0}])))
    pair = plan.pairs[0]
    # two disjoint relay routes, each limited by its weaker hop; the short route through site s is not used
    expected = min(bb84(40), bb84(90)) + min(bb84(120), bb84(30))
    assert pair.rate_bps == pytest.approx(expected, rel=1e-6)
    assert all("s" not in p.nodes for p in pair.paths)
    assert sum(p.flow_bps for p in pair.paths) == pytest.approx(expected, rel=1e-6)
    assert pair.relay_consumption == pytest.approx(2.0)   # every end-to-end bit crosses two links
    for p in pair.paths:
        hops = [10 ** (-0.2 * L / 10) for L in ((40, 90) if "t1" in p.nodes else (120, 30))]
        assert p.plob_bps == pytest.approx(float(plob_bound(math.prod(hops))) * CLOCK)
        assert p.ideal_repeater_bps == pytest.approx(min(float(plob_bound(h)) for h in hops) * CLOCK)


def test_trusted_nodes_are_placed_until_every_hop_meets_the_target_and_no_fewer_would() -> None:
    target = 20_000.0
    plan = plan_network(parse_topology(topo([("a", "site"), ("b", "site")],
                                            [{"a": "a", "b": "b", "length_km": 400}],
                                            [{"a": "a", "b": "b", "min_key_rate_bps": target}])))
    pair = plan.pairs[0]
    assert not pair.meets_target and pair.placement is not None and pair.placement.feasible
    k = len(pair.placement.new_nodes)
    assert k >= 1
    assert bb84(400 / (k + 1)) >= target > bb84(400 / k)
    positions = [n.at_km for n in pair.placement.new_nodes]
    assert positions == pytest.approx([400 / (k + 1) * (j + 1) for j in range(k)], abs=1e-3)


def test_a_target_no_number_of_trusted_nodes_can_meet_is_answered_plainly() -> None:
    plan = plan_network(parse_topology(topo([("a", "site"), ("b", "site")],
                                            [{"a": "a", "b": "b", "length_km": 80}],
                                            [{"a": "a", "b": "b", "min_key_rate_bps": 1e12}])))
    placement = plan.pairs[0].placement
    assert placement is not None and not placement.feasible
    assert "infeasible" in placement.reason and "1 m" in placement.reason
    # and with no fibre at all between the sites
    sat = plan_network(parse_topology(topo([("a", "site"), ("b", "site")],
                                           [{"a": "a", "b": "b", "kind": "satellite", "passes_per_day": 1}],
                                           [{"a": "a", "b": "b", "min_key_rate_bps": 1e12}])))
    assert "no fibre route" in sat.pairs[0].placement.reason   # type: ignore[union-attr]


def test_each_pair_gets_a_verdict_naming_why_a_target_cannot_be_met() -> None:
    nodes = [("a", "site"), ("b", "site")]
    # 200 km of fibre at 0.2 dB/km: BB84 with decoys gives nothing, and even the repeaterless bound is
    # −log₂(1 − 10⁻⁴) × 1 GHz ≈ 144 kbit/s
    far = plan_network(parse_topology(topo(nodes, [{"a": "a", "b": "b", "length_km": 200}],
                                           [{"a": "a", "b": "b", "min_key_rate_bps": 1e6}]))).pairs[0]
    assert far.status == "needs-trusted-nodes" and far.rate_bps == 0
    assert far.plob_flow_bps == pytest.approx(float(plob_bound(1e-4)) * CLOCK)
    assert far.reason.startswith("a–b misses the target 1e+06 bit/s: the links joining them")
    assert "above the repeaterless (PLOB) bound of every route" in far.reason and "1.443e+05 bit/s" in far.reason
    assert "new trusted node(s) on the route a → b" in far.reason
    # no placement helps when even a 1 m hop is too slow
    never = plan_network(parse_topology(topo(nodes, [{"a": "a", "b": "b", "length_km": 200}],
                                             [{"a": "a", "b": "b", "min_key_rate_bps": 1e12}]))).pairs[0]
    assert never.status == "infeasible" and "more trusted nodes cannot help" in never.reason
    # enough physics, too little trusted-node capacity: below the PLOB flow, above the links' flow
    relay = [("a", "site"), ("b", "site"), ("t", "trusted")]
    links = [{"a": "a", "b": "t", "length_km": 60}, {"a": "t", "b": "b", "length_km": 60}]
    short = plan_network(parse_topology(topo(relay, links, [{"a": "a", "b": "b", "min_key_rate_bps": 2 * bb84(60)}])))
    pair = short.pairs[0]
    assert pair.status == "needs-trusted-nodes" and pair.rate_bps == pytest.approx(bb84(60), rel=1e-6)
    assert pair.plob_flow_bps > pair.target.min_key_rate_bps and "PLOB" not in pair.reason
    assert f"carry at most {bb84(60):.4g} bit/s" in pair.reason
    met = plan_network(parse_topology(topo(relay, links, [{"a": "a", "b": "b", "min_key_rate_bps": 1.0}]))).pairs[0]
    assert met.status == "met" and met.placement is None and "meets the target" in met.reason


def test_a_dual_downlink_satellite_link_is_the_untrusted_pass_key_averaged_over_the_day() -> None:
    link = Link(a="a", b="b", kind="satellite", protocol="bbm92", length_km=1120, passes_per_day=2)
    rate = plan_network(parse_topology({"nodes": [{"name": "a"}, {"name": "b"}],
                                        "links": [link.model_dump()]})).links[0]
    one = dual_downlink_pass(link)
    assert one.key_bits == pytest.approx(dual_downlink(link).pass_summary(61).key_bits)
    assert rate.rate_bps == pytest.approx(2 * one.key_bits / 86_400) and rate.in_view_bps == one.in_view_bps > 0
    assert rate.transmittance is None and "dual downlink" in rate.detail
    # stations farther apart share less sky; beyond one satellite's footprint nothing at all
    assert dual_downlink_pass(link.model_copy(update={"length_km": 2000})).key_bits < one.key_bits
    assert dual_downlink_pass(link.model_copy(update={"length_km": 6000})).key_bits == 0.0
    with pytest.raises(PlannerError, match="length_km > 0"):
        parse_topology({"nodes": [{"name": "a"}, {"name": "b"}],
                        "links": [{**link.model_dump(), "length_km": 0}]})


def test_satellite_link_is_the_pass_integral_averaged_over_the_day() -> None:
    link = Link(a="a", b="b", kind="satellite", passes_per_day=3, preset="freespace-night")
    plan = plan_network(parse_topology({"nodes": [{"name": "a"}, {"name": "b"}],
                                        "links": [link.model_dump()]}))
    rate = plan.links[0].rate_bps
    twice = plan_network(parse_topology({"nodes": [{"name": "a"}, {"name": "b"}],
                                         "links": [{**link.model_dump(), "passes_per_day": 6}]})).links[0].rate_bps
    assert rate > 0 and twice == pytest.approx(2 * rate)
    worse = plan_network(parse_topology({"nodes": [{"name": "a"}, {"name": "b"}],
                                         "links": [{**link.model_dump(), "extra_loss_db_per_arm": 10}]}))
    assert worse.links[0].rate_bps < rate / 5


def test_bbm92_with_the_source_in_the_middle_trades_rate_for_reach() -> None:
    # each photon crosses half the loss: positive where prepare-and-measure BB84 has nothing left
    assert fibre_rate(Link(a="a", b="b", length_km=250), CLOCK) == 0
    assert fibre_rate(Link(a="a", b="b", length_km=250, protocol="bbm92"), CLOCK) > 0
    # but the pair source's multi-pair noise costs rate on short links
    assert (fibre_rate(Link(a="a", b="b", length_km=100, protocol="bbm92"), CLOCK)
            < fibre_rate(Link(a="a", b="b", length_km=100), CLOCK))


def test_repeater_chain_time_per_pair_follows_the_nested_formula() -> None:
    mem = RepeaterMemory(efficiency=1.0, coherence_time_ms=1e9, detector_efficiency=1.0, swap_success=1.0,
                         pair_fidelity_error=0.0)
    flat = repeater_chain_rate(100.0, 0, mem)
    p0 = 0.5 * (10 ** (-0.2 * 100 / 20)) ** 2
    assert flat.time_per_pair_s == pytest.approx((100 / FIBRE_LIGHT_SPEED_KM_S) / p0)
    nested = repeater_chain_rate(100.0, 2, mem)
    p0_nested = 0.5 * (10 ** (-0.2 * 25 / 20)) ** 2
    assert nested.time_per_pair_s == pytest.approx(1.5 ** 2 * (25 / FIBRE_LIGHT_SPEED_KM_S) / p0_nested)
    assert nested.qber == pytest.approx(0, abs=1e-6)
    assert nested.key_rate_bps == pytest.approx(1 / nested.time_per_pair_s, rel=1e-4)
    poor = repeater_chain_rate(100.0, 2, RepeaterMemory(coherence_time_ms=0.01))
    assert poor.key_rate_bps == 0.0 and poor.qber > 0.11


@pytest.mark.parametrize(("data", "message"), [
    ({"nodes": [{"name": "a"}], "links": [{"a": "a", "b": "x", "length_km": 1}]}, "unknown node 'x'"),
    ({"nodes": [{"name": "a"}, {"name": "a"}]}, "defined twice"),
    ({"nodes": [{"name": "a"}, {"name": "b"}], "links": [{"a": "a", "b": "b"}]}, "length_km > 0"),
    ({"nodes": [{"name": "a"}, {"name": "b"}], "links": [{"a": "a", "b": "b", "length_km": 1, "colour": 1}]},
     "links.0.colour"),
    ({"nodes": [{"name": "a"}, {"name": "b"}], "targets": [{"a": "a", "b": "b", "min_key_rate_bps": -1}]},
     "targets.0.min_key_rate_bps"),
])
def test_a_malformed_topology_is_refused_naming_the_field(data: dict, message: str) -> None:
    with pytest.raises(PlannerError, match=message):
        parse_topology(data, "t.toml")


def test_topology_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "net.toml"
    bad.write_text("nodes = [ {name = 'a'")
    with pytest.raises(PlannerError, match="net.toml: not valid TOML"):
        load_topology(bad)
    with pytest.raises(PlannerError, match="cannot read"):
        load_topology(tmp_path / "absent.toml")


def test_the_picture_renders_every_node_and_link() -> None:
    plan = plan_network(parse_topology(topo([("a", "site"), ("b", "site"), ("t", "trusted")],
                                            [{"a": "a", "b": "t", "length_km": 30},
                                             {"a": "t", "b": "b", "length_km": 40}],
                                            [{"a": "a", "b": "b", "min_key_rate_bps": 1e3}])))
    fig = network_figure(plan)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"a", "b", "t"} <= texts
    assert any("fibre:" in t for t in texts)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    assert out.getvalue()[:8] == b"\x89PNG\r\n\x1a\n" and len(out.getvalue()) > 10_000
