"""deploy/k8s against the code: workloads, mounts, secrets, probes, Services and NetworkPolicies.

Parsed with PyYAML; the configs inside the ConfigMap are loaded with the real loaders; the secrets the
kustomization generates are compared with what ``qshift kme pki`` and the identity key writer really
produce; the NetworkPolicies are evaluated (Kubernetes semantics: a pod selected by a policy of a direction
allows only what some rule of that direction allows) against the flows the configs need. When ``kubectl``
is installed the kustomization is rendered with it (``kubectl kustomize``, offline).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from qshift.cli import app
from tests.deploy import layout
from tests.deploy.layout import COMPOSE_CONFIGS, IMAGE, K8S, UID

NAMESPACE = "qshift"


@functools.cache
def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for _, o in layout.k8s_objects() if o["kind"] == kind}


@functools.cache
def workloads() -> dict[str, dict[str, Any]]:
    return {**objects("StatefulSet"), **objects("Deployment")}


def pod(name: str) -> dict[str, Any]:
    return workloads()[name]["spec"]["template"]


def container(name: str) -> dict[str, Any]:
    [c] = pod(name)["spec"]["containers"]
    return c


def qshift_workloads() -> list[str]:
    return [n for n in workloads() if container(n).get("args")]


def mounts(name: str) -> list[tuple[str, str]]:
    return [(m["name"], m["mountPath"]) for m in container(name)["volumeMounts"]]


def volume(name: str, vol: str) -> dict[str, Any]:
    for v in pod(name)["spec"].get("volumes", []):
        if v["name"] == vol:
            return v
    claims = workloads()[name]["spec"].get("volumeClaimTemplates", [])
    for c in claims:
        if c["metadata"]["name"] == vol:
            return {"name": vol, "persistentVolumeClaim": c}
    raise AssertionError(f"{name}: no volume {vol}")


def generated_secret_files() -> dict[str, list[str]]:
    return {g["name"]: g["files"] for g in layout.kustomization()["secretGenerator"]}


def config_file(name: str, tmp: Path) -> tuple[Path, str]:
    """The config a workload's args name, written from the ConfigMap to ``tmp``; and the ConfigMap key."""
    args = container(name)["args"]
    path = args[-1]
    found = layout.mount_target(mounts(name), path)
    assert found, f"{name}: {path} is not mounted"
    vol = volume(name, found[0])
    cm = vol["configMap"]
    [item] = [i for i in cm["items"] if i["path"] == found[1]]
    data = objects("ConfigMap")[cm["name"]]["data"][item["key"]]
    out = tmp / item["key"]
    out.write_text(data)
    return out, item["key"]


# ---------------------------------------------------------------------------------------------- structure
def test_kustomization_lists_every_manifest_and_only_existing_ones() -> None:
    kust = layout.kustomization()
    assert kust["namespace"] == NAMESPACE
    assert sorted(kust["resources"]) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert {(i["name"], i["newTag"]) for i in kust["images"]} == {tuple(IMAGE.split(":"))}
    kinds = sorted(o["kind"] for _, o in layout.k8s_objects())
    assert kinds.count("StatefulSet") == 3 and kinds.count("NetworkPolicy") >= 2
    assert (K8S / ".gitignore").read_text().split("\n")[1].strip() == "secrets/"


@pytest.mark.parametrize("name", ["kme-a", "kme-t", "kme-b", "gateway-a", "gateway-b", "web-b"])
def test_every_pod_is_non_root_read_only_without_capabilities_or_service_account_token(name: str) -> None:
    spec = pod(name)["spec"]
    psc = spec["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] == UID and psc["runAsGroup"] == UID
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    c = container(name)
    assert c["image"] == IMAGE
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert "memory" in c["resources"]["limits"]
    for m in c["volumeMounts"]:     # the only writable mounts: the key store and an in-memory /tmp
        if not m.get("readOnly"):
            v = volume(name, m["name"])
            assert "persistentVolumeClaim" in v or v.get("emptyDir", {}).get("medium") == "Memory", (name, m)


@pytest.mark.parametrize("name", ["kme-a", "kme-t", "kme-b", "gateway-a", "gateway-b"])
def test_workload_runs_a_real_qshift_command_on_its_verbatim_config(name: str, tmp_path: Path) -> None:
    args = container(name)["args"]
    i = 0
    while args[i].startswith("--"):
        i += 2
    result = CliRunner().invoke(app, [*args[:i], *args[i:i + 2], "--help"])
    assert result.exit_code == 0, result.output
    path, key = config_file(name, tmp_path)
    assert path.read_bytes() == (COMPOSE_CONFIGS / key).read_bytes(), f"ConfigMap {key} differs from deploy/compose"
    assert layout.config_kind(key) == args[i]
    layout.load_any(path)


@pytest.mark.parametrize("name", ["kme-a", "kme-t", "kme-b", "gateway-a", "gateway-b"])
def test_every_file_a_config_names_comes_from_the_pods_own_secret_or_its_store(name: str, tmp_path: Path) -> None:
    cfg = layout.load_any(config_file(name, tmp_path)[0])
    files = generated_secret_files()
    for path in layout.file_paths_of(cfg):
        if not path.startswith("/"):
            workdir = container(name)["workingDir"]
            vol, rest = layout.mount_target(mounts(name), workdir)
            assert rest == "" and "persistentVolumeClaim" in volume(name, vol), f"{name}: {path} not on the PVC"
            continue
        found = layout.mount_target(mounts(name), path)
        assert found, f"{name}: {path} is not mounted"
        secret = volume(name, found[0])["secret"]
        assert secret["defaultMode"] == 0o440        # owner root, group = fsGroup = the service's group
        assert pod(name)["spec"]["securityContext"]["fsGroup"] == UID
        assert found[1] in {Path(f).name for f in files[secret["secretName"]]}, (name, path)
    # and nothing more: a pod gets no key it does not use
    used = {Path(p).name for p in layout.file_paths_of(cfg) if p.startswith("/")}
    for vol, _ in mounts(name):
        if "secret" in volume(name, vol):
            assert {Path(f).name for f in files[volume(name, vol)["secret"]["secretName"]]} <= used, (name, vol)


def test_kme_statefulsets_keep_one_store_per_node_on_a_claim_and_keep_fsgroup_off_the_master_key() -> None:
    for name in ("kme-a", "kme-t", "kme-b"):
        sts = workloads()[name]
        assert sts["kind"] == "StatefulSet" and sts["spec"]["replicas"] == 1
        [claim] = sts["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert (claim["metadata"]["name"], container(name)["workingDir"]) in mounts(name)
        assert pod(name)["spec"]["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
        svc = objects("Service")[sts["spec"]["serviceName"]]
        assert svc["spec"]["clusterIP"] == "None"


@pytest.mark.parametrize("name", ["kme-a", "kme-t", "kme-b", "gateway-a", "gateway-b"])
def test_container_ports_and_probes_match_the_ports_the_config_listens_on(name: str, tmp_path: Path) -> None:
    cfg = layout.load_any(config_file(name, tmp_path)[0])
    listeners = layout.listeners_of(cfg)
    c = container(name)
    assert {p["containerPort"] for p in c["ports"]} == {lst.port for lst in listeners}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        spec = c[probe]
        if name.startswith("kme"):     # mutual TLS only, no plain-HTTP route: a TCP check of the API port
            assert spec["tcpSocket"]["port"] == cfg.node.listen_port, probe
        else:
            mgmt = next(lst.port for lst in listeners if lst.role == "management")
            assert spec["httpGet"] == {"path": "/healthz", "port": mgmt}, probe


def _target_port(svc: dict[str, Any], port: int) -> int:
    """The container port a Service's ``port`` reaches (named target ports resolved in the pods)."""
    [sp] = [p for p in svc["spec"]["ports"] if p["port"] == port]
    target = sp.get("targetPort", port)
    selector = {"matchLabels": svc["spec"]["selector"]}
    [backend] = [n for n in workloads() if _selects(selector, pod(n)["metadata"]["labels"])]
    if isinstance(target, int):
        return target
    [cp] = [p["containerPort"] for p in container(backend)["ports"] if p["name"] == target]
    return cp


def test_every_host_a_config_dials_is_a_service_reaching_that_port_of_the_right_pod(tmp_path: Path) -> None:
    services = objects("Service")
    for name in ("kme-a", "kme-t", "kme-b", "gateway-a", "gateway-b"):
        cfg = layout.load_any(config_file(name, tmp_path)[0])
        for host, port in layout.outbound_of(cfg):
            assert host in services, f"{name} dials {host}: no Service"
            backend = next(n for n in workloads() if _selects({"matchLabels": services[host]["spec"]["selector"]},
                                                               pod(n)["metadata"]["labels"]))
            assert _target_port(services[host], port) in {p["containerPort"] for p in container(backend)["ports"]}


# ---------------------------------------------------------------------------------------------- policies
def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for k, v in selector.get("matchLabels", {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions", []):
        op, k, vals = expr["operator"], expr["key"], expr.get("values", [])
        if (op == "In" and labels.get(k) not in vals) or (op == "NotIn" and labels.get(k) in vals) or \
                (op == "Exists" and k not in labels) or (op == "DoesNotExist" and k in labels):
            return False
    return True


class Pod:
    def __init__(self, labels: dict[str, str], namespace: str = NAMESPACE, external: bool = False) -> None:
        self.labels, self.namespace, self.external = labels, namespace, external
        self.ns_labels = {"kubernetes.io/metadata.name": namespace}


def _peer_matches(peer: dict[str, Any], other: Pod) -> bool:
    if "ipBlock" in peer:
        return peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    if other.external:
        return False
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], other.ns_labels):
            return False
    elif other.namespace != NAMESPACE:
        return False
    return _selects(peer.get("podSelector", {}), other.labels)


def _direction_allows(me: Pod, other: Pod, port: int, direction: str) -> bool:
    if me.external or me.namespace != NAMESPACE:
        return True
    policies = [p for p in objects("NetworkPolicy").values()
                if direction in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], me.labels)]
    if not policies:
        return True
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    for policy in policies:
        for rule in policy["spec"].get(key, []):
            peers_ok = peers_key not in rule or any(_peer_matches(p, other) for p in rule[peers_key])
            ports_ok = "ports" not in rule or any(p.get("port") == port and p.get("protocol", "TCP") == "TCP"
                                                  for p in rule["ports"])
            if peers_ok and ports_ok:
                return True
    return False


def allowed(src: Pod, dst: Pod, port: int) -> bool:
    return _direction_allows(src, dst, port, "Egress") and _direction_allows(dst, src, port, "Ingress")


def _pods() -> dict[str, Pod]:
    return {n: Pod(pod(n)["metadata"]["labels"]) for n in workloads()}


def _required_flows(tmp: Path) -> set[tuple[str, str, int]]:
    services = objects("Service")
    flows = set()
    for name in qshift_workloads():
        cfg = layout.load_any(config_file(name, tmp)[0])
        for host, port in layout.outbound_of(cfg):
            backend = next(n for n in workloads() if _selects({"matchLabels": services[host]["spec"]["selector"]},
                                                               pod(n)["metadata"]["labels"]))
            flows.add((name, backend, _target_port(services[host], port)))
    return flows


def test_network_policies_allow_exactly_the_flows_the_configs_need_between_the_pods(tmp_path: Path) -> None:
    pods = _pods()
    required = _required_flows(tmp_path)
    assert ("gateway-a", "kme-a", 8441) in required and ("kme-a", "kme-t", 8442) in required
    assert ("kme-t", "kme-a", 8441) in required     # relay towards A (SAE_B as master) and link channels
    for src in pods:
        for dst in pods:
            for port in {p["containerPort"] for p in container(dst)["ports"]}:
                want = (src, dst, port) in required
                assert allowed(pods[src], pods[dst], port) == want, f"{src} -> {dst}:{port} should be " + \
                    ("allowed" if want else "denied")


def test_from_outside_only_the_tunnel_and_forward_ports_are_open_and_metrics_only_to_monitoring() -> None:
    pods = _pods()
    outside = Pod({}, namespace="elsewhere", external=True)
    client = Pod({"app": "client"}, namespace="site-a-clients")
    monitoring = Pod({"app": "prometheus"}, namespace="monitoring")
    for dst in pods:
        for port in {p["containerPort"] for p in container(dst)["ports"]}:
            assert allowed(outside, pods[dst], port) == ((dst, port) == ("gateway-b", 7443)), (dst, port)
            assert allowed(client, pods[dst], port) == ((dst, port) in {("gateway-b", 7443), ("gateway-a", 18080)})
            assert allowed(monitoring, pods[dst], port) == ((dst, port) in {
                ("gateway-b", 7443), ("gateway-a", 18080), ("gateway-a", 9101), ("gateway-b", 9102)}), (dst, port)
    dns = Pod({"k8s-app": "kube-dns"}, namespace="kube-system")
    assert all(allowed(pods[p], dns, 53) for p in pods)


def test_the_policy_evaluator_denies_what_a_default_deny_namespace_denies() -> None:
    pods = _pods()
    assert not allowed(pods["web-b"], pods["kme-b"], 8443)
    assert not allowed(pods["gateway-a"], pods["kme-b"], 8443)
    assert not allowed(pods["kme-a"], pods["kme-b"], 8443)       # not QKD neighbours
    assert allowed(pods["gateway-b"], pods["web-b"], 8080)


# ---------------------------------------------------------------------------------------------- secrets
def _make_secrets(root: Path) -> None:
    """What deploy/README.md tells the operator to run, into ``root`` (= deploy/k8s/secrets)."""
    pki = ["kme", "pki", str(root / "pki"), "--kme", "KME_A", "--kme", "KME_T", "--kme", "KME_B",
           "--sae", "SAE_A", "--sae", "SAE_B", "--host", "kme-a", "--host", "kme-t", "--host", "kme-b"]
    result = CliRunner().invoke(app, pki)
    assert result.exit_code == 0, result.output
    (root / "pki" / "ca.key").unlink()
    for site in ("a", "b"):   # keygen makes the identity directory (0700)
        key = str(root / f"identity/site-{site}.key")
        result = CliRunner().invoke(app, ["pqc", "keygen", "MLDSA65-Ed25519", "-o", key])
        assert result.exit_code == 0, result.output


def test_secret_generators_take_exactly_files_that_the_pki_and_key_commands_write(tmp_path: Path) -> None:
    _make_secrets(tmp_path / "secrets")
    made = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    listed = {f for files in generated_secret_files().values() for f in files}
    assert listed == made, (listed ^ made)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed (renders kustomizations offline)")
def test_kubectl_kustomize_renders_and_every_secret_reference_resolves(tmp_path: Path) -> None:
    work = tmp_path / "k8s"
    shutil.copytree(K8S, work)
    _make_secrets(work / "secrets")
    out = subprocess.run(["kubectl", "kustomize", str(work)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    secrets = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    assert len(secrets) == len(generated_secret_files())
    for d in docs:
        assert d["metadata"].get("namespace", NAMESPACE) == NAMESPACE or d["kind"] == "Namespace"
        if d["kind"] in ("StatefulSet", "Deployment"):
            for v in d["spec"]["template"]["spec"].get("volumes", []):
                if "secret" in v:
                    assert v["secret"]["secretName"] in secrets, v
            assert d["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE


def test_config_map_is_rendered_from_the_compose_configs() -> None:
    result = subprocess.run([sys.executable, str(K8S / "render-config.py"), "--check"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    www = objects("ConfigMap")["web-b-www"]["data"]["index.html"]
    assert www == (COMPOSE_CONFIGS / "www" / "index.html").read_text()
    web = container("web-b")["command"]
    assert web == layout.compose()["services"]["web-b"]["entrypoint"]
