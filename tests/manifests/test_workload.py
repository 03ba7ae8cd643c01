"""The Deployment the runtime needs: probes, grace period, init container, hardening, labels."""

from __future__ import annotations

from typing import Any

import yaml

from greenlang_runtime.manifests import render_tree
from tests.manifests.conftest import make_spec


def _base(name: str, **table: Any) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(render_tree(make_spec(**table))[f"base/{name}"])
    return doc


def _pod(**table: Any) -> dict[str, Any]:
    pod: dict[str, Any] = _base("deployment.yaml", **table)["spec"]["template"]["spec"]
    return pod


def test_grace_period_covers_prestop_drain_hooks_and_margin() -> None:
    """5 s pre-stop + 20 s drain + 3 s hooks + 2 s margin = 30 s, the contract's default."""
    assert _pod()["terminationGracePeriodSeconds"] == 5 + 20 + 3 + 2


def test_config_map_sets_the_same_timings_the_grace_period_adds_up() -> None:
    """The pod's GL_* values are the runtime defaults that the 30 s grace period covers."""
    assert _base("configmap.yaml")["data"] == {
        "GL_HTTP_PORT": "8000",
        "GL_METRICS_PORT": "9090",
        "GL_PRESTOP_DELAY_SECONDS": "5",
        "GL_DRAIN_TIMEOUT_SECONDS": "20",
        "GL_SHUTDOWN_HOOKS_TIMEOUT_SECONDS": "3",
    }


def test_no_replicas_when_the_hpa_owns_them() -> None:
    """The Deployment leaves replicas to the HorizontalPodAutoscaler."""
    assert "replicas" not in _base("deployment.yaml")["spec"]
    assert _base("hpa.yaml")["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "cbam-calculator",
    }


def test_probes_use_the_runtime_paths_and_liveness_is_not_readiness() -> None:
    """startup, readiness and liveness hit /health/*, on the http port, with their own timing."""
    agent = _pod()["containers"][0]
    assert agent["ports"] == [
        {"name": "http", "containerPort": 8000, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
    ]
    paths = {
        kind: agent[f"{kind}Probe"]["httpGet"]["path"]
        for kind in ("startup", "readiness", "liveness")
    }
    assert paths == {
        "startup": "/health/startup",
        "readiness": "/health/ready",
        "liveness": "/health/live",
    }
    assert {agent[f"{k}Probe"]["httpGet"]["port"] for k in paths} == {"http"}
    readiness, liveness = agent["readinessProbe"], agent["livenessProbe"]
    del readiness["httpGet"], liveness["httpGet"]
    assert readiness != liveness
    # Startup allows 60 failures 5 s apart: 5 minutes of on_startup hooks.
    assert agent["startupProbe"]["failureThreshold"] * agent["startupProbe"]["periodSeconds"] == 300


def test_init_container_waits_for_dependencies_from_the_same_image() -> None:
    """wait-for-dependencies runs first, same image, same Secret env, the app's checks too."""
    pod = _pod()
    init, agent = pod["initContainers"][0], pod["containers"][0]
    assert init["image"] == agent["image"]
    assert init["command"] == [
        "greenlang-runtime",
        "wait-for-dependencies",
        "--timeout",
        "300",
        "--app",
        "cbam_calculator.agent:runtime",
    ]
    assert init["env"] == agent["env"]


def test_secrets_come_by_secret_key_ref_as_dependencies_and_providers_need() -> None:
    """postgres + anthropic give DATABASE_URL and ANTHROPIC_API_KEY from the Secret, no more."""
    env = _pod(dependencies=["postgres"], **{"llm-providers": ["anthropic"]})["containers"][0][
        "env"
    ]
    assert env == [
        {"name": "AGENT_ID", "value": "cbam-calculator"},
        {"name": "AGENT_VERSION", "value": "2.3.1"},
        {"name": "TENANT_ID", "value": "customer-abc-123"},
        {"name": "ENVIRONMENT", "value": "production"},
        {"name": "AGENT_LIFECYCLE_STATE", "value": "certified"},
        {
            "name": "DATABASE_URL",
            "valueFrom": {
                "secretKeyRef": {"name": "cbam-calculator-secrets", "key": "database-url"}
            },
        },
        {
            "name": "ANTHROPIC_API_KEY",
            "valueFrom": {
                "secretKeyRef": {"name": "cbam-calculator-secrets", "key": "anthropic-api-key"}
            },
        },
    ]
    bare = _pod(dependencies=[], **{"llm-providers": []})["containers"][0]["env"]
    assert [variable["name"] for variable in bare] == [
        "AGENT_ID",
        "AGENT_VERSION",
        "TENANT_ID",
        "ENVIRONMENT",
        "AGENT_LIFECYCLE_STATE",
    ]


def test_pod_is_hardened() -> None:
    """Non-root uid 10001, read-only root with /tmp on an emptyDir, no token, nothing extra."""
    pod = _pod()
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in (*pod["initContainers"], *pod["containers"]):
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]
    config = {"name": "config", "mountPath": "/etc/greenlang-runtime", "readOnly": True}
    assert config in pod["containers"][0]["volumeMounts"]


def test_pods_spread_over_zones_and_hosts_on_the_agents_node_pool() -> None:
    """Anti-affinity by zone and by host; node selector and toleration from node-pool."""
    pod = _pod(**{"node-pool": "llm-agents"})
    terms = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert [t["podAffinityTerm"]["topologyKey"] for t in terms] == [
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    ]
    assert pod["nodeSelector"] == {"workload-type": "llm-agents"}
    assert pod["tolerations"] == [
        {"key": "workload-type", "operator": "Equal", "value": "llm-agents", "effect": "NoSchedule"}
    ]
    assert "nodeSelector" not in _pod(**{"node-pool": ""})


def test_platform_labels_and_annotations() -> None:
    """app, version, agent-id, lifecycle-state, tenant-id; greenlang.io/* and Prometheus."""
    deployment = _base("deployment.yaml")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert {
        k: labels[k] for k in ("app", "version", "agent-id", "lifecycle-state", "tenant-id")
    } == {
        "app": "cbam-calculator",
        "version": "2.3.1",
        "agent-id": "cbam-calculator",
        "lifecycle-state": "certified",
        "tenant-id": "customer-abc-123",
    }
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["greenlang.io/registry-url"] == (
        "https://registry.greenlang.io/agents/cbam-calculator/2.3.1"
    )
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == (
        "9090",
        "/metrics",
    )
    # The selector omits the version, so a new version rolls instead of being rejected.
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "cbam-calculator"}}


def test_checkov_skips_carry_their_reason() -> None:
    """Secret env vars and an unpinned image are skipped in writing, never silently."""
    tagged = _base("deployment.yaml", environments={})["metadata"]["annotations"]
    assert tagged["checkov.io/skip1"].startswith("CKV_K8S_35=The runtime reads DATABASE_URL")
    assert tagged["checkov.io/skip2"].startswith("CKV_K8S_43=The image is tagged")
    pinned = _base("deployment.yaml", dependencies=[], **{"llm-providers": []})
    assert not any(key.startswith("checkov.io") for key in pinned["metadata"]["annotations"])


def test_the_ledger_dependency_gets_its_url_from_the_secret_and_its_egress() -> None:
    """llm-ledger: GL_LLM_LEDGER_URL by secretKeyRef; egress 5432, once alongside postgres."""
    env = _pod(dependencies=["llm-ledger"], **{"llm-providers": []})["containers"][0]["env"]
    assert env[-1] == {
        "name": "GL_LLM_LEDGER_URL",
        "valueFrom": {"secretKeyRef": {"name": "cbam-calculator-secrets", "key": "llm-ledger-url"}},
    }
    assert [variable["name"] for variable in env[:-1]] == [
        "AGENT_ID",
        "AGENT_VERSION",
        "TENANT_ID",
        "ENVIRONMENT",
        "AGENT_LIFECYCLE_STATE",
    ]
    for dependencies, ports in (
        (["llm-ledger"], [[53, 53], [5432]]),
        (["redis", "llm-ledger", "postgres"], [[53, 53], [5432], [6379]]),
    ):
        policy = _base("networkpolicy.yaml", dependencies=dependencies, **{"llm-providers": []})
        egress = [[port["port"] for port in rule["ports"]] for rule in policy["spec"]["egress"]]
        assert egress == ports


def test_the_ledger_alert_and_panel_only_with_the_ledger() -> None:
    """AgentLLMLedgerBehind and the ledger panel are rendered when the spec lists llm-ledger."""
    for dependencies, present in ((["postgres"], False), (["postgres", "llm-ledger"], True)):
        files = render_tree(make_spec(dependencies=dependencies))
        rules = yaml.safe_load(files["base/prometheusrule.yaml"])["spec"]["groups"]
        names = [rule.get("alert") for group in rules for rule in group["rules"]]
        assert ("AgentLLMLedgerBehind" in names) is present
        assert ("agent_llm_ledger_pending" in files["base/dashboard.yaml"]) is present
