"""Manifests and runtime agree: every agent_* name they query is one a served agent exposes.

The LLM series come from a real Anthropic call against the local fake server and
agent_errors_total from a failing call, so every queried name is checked against a
real exposition; each is also one of ``metric_names.ALL_METRICS``, the constants the
collectors themselves export.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import httpx2
import pytest
import yaml

from greenlang_runtime import metric_names
from greenlang_runtime.manifests import render_tree
from greenlang_runtime.testing import FakeLLMServer, PostgresServer
from tests.helpers import ServedAgent
from tests.manifests.conftest import make_spec

pytestmark = pytest.mark.integration

AGENT = """
import anthropic
from greenlang_runtime import AgentRuntime

runtime = AgentRuntime()
client = runtime.instrument(anthropic.AsyncAnthropic(base_url="{url}", api_key="test-key"))

@runtime.capability("calculate")
async def calculate(payload: dict) -> dict:
    if payload.get("fail"):
        raise RuntimeError("asked to fail")
    reply = await client.messages.create(
        model="claude-sonnet-4-5", max_tokens=10, messages=[{{"role": "user", "content": "hi"}}]
    )
    return {{"tokens": reply.usage.output_tokens}}
"""
_NAME = re.compile(r"(?<![\w:])agent_[a-z0-9_]+")
# Label names that share the prefix; they are not series.
_LABELS = set(metric_names.AGENT_LABELS)


def _names(text: str) -> set[str]:
    return {name for name in _NAME.findall(text) if name not in _LABELS}


def _queried(rollout: str) -> dict[str, set[str]]:
    """Every agent_* name each kind of object queries, by where it is used."""
    files = render_tree(make_spec(rollout=rollout))
    rules = yaml.safe_load(files["base/prometheusrule.yaml"])["spec"]["groups"]
    adapter = yaml.safe_load(
        yaml.safe_load(files["platform/prometheus-adapter-rules.yaml"])["data"]["config.yaml"]
    )["rules"]
    served_by_adapter = {rule["name"]["as"]: _names(rule["seriesQuery"]) for rule in adapter}
    hpa = yaml.safe_load(files["base/hpa.yaml"])["spec"]["metrics"]
    hpa_series: set[str] = set()
    for metric in hpa:
        if metric["type"] == "Pods":
            # The HPA asks the adapter by name; the adapter reads these series.
            hpa_series |= served_by_adapter[metric["pods"]["metric"]["name"]]
    board = json.loads(yaml.safe_load(files["base/dashboard.yaml"])["data"]["cbam-calculator.json"])
    queried = {
        "rules": _names(" ".join(r["expr"] for g in rules for r in g["rules"])),
        "adapter": set().union(*served_by_adapter.values()),
        "hpa": hpa_series,
        "dashboard": _names(json.dumps(board)),
    }
    if rollout != "rolling":
        queried["analysis"] = _names(files["base/analysistemplate.yaml"])
    return queried


def _exposed(text: str) -> set[str]:
    """The sample names of an exposition, with a histogram's _bucket/_sum/_count."""
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}


def _base_name(sample: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if sample.endswith(suffix) and sample[: -len(suffix)] in metric_names.ALL_METRICS:
            return sample[: -len(suffix)]
    return sample


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """A local server speaking Anthropic's API with fixed usage."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def served(
    serve_agent: Callable[..., ServedAgent], fake_llm: FakeLLMServer, postgres: PostgresServer
) -> ServedAgent:
    """The agent served for real, after one good call (with an LLM call) and one failing one.

    The spec lists ``llm-ledger``: the agent writes its LLM usage ledger too.
    """
    agent = serve_agent(AGENT.format(url=fake_llm.url), {"GL_LLM_LEDGER_URL": postgres.url})
    agent.wait_until("/health/ready")
    ok = httpx2.post(f"{agent.url}/v1/capabilities/calculate", json={}, timeout=10)
    assert ok.status_code == 200, ok.text
    failed = httpx2.post(f"{agent.url}/v1/capabilities/calculate", json={"fail": 1}, timeout=10)
    assert failed.status_code == 500
    return agent


def test_every_queried_name_is_in_a_served_agents_exposition(served: ServedAgent) -> None:
    """Rules, HPA, adapter, dashboard and analysis query only series the runtime exports."""
    exposition = httpx2.get(served.metrics_url, timeout=5).text
    exposed = _exposed(exposition)
    for rollout in ("rolling", "canary"):
        for where, names in _queried(rollout).items():
            assert names, where
            missing = {name for name in names if name not in exposed}
            assert missing == set(), f"{where} queries {sorted(missing)}, not exposed"
    # The names the manifests use are metric_names constants, every one of them.
    used = set().union(*_queried("canary").values())
    assert {_base_name(name) for name in used} <= set(metric_names.ALL_METRICS)
    assert {"agent_llm_tokens_total", "agent_llm_cost_usd_total"} <= used


def test_probe_paths_of_the_deployment_answer_on_the_served_agent(served: ServedAgent) -> None:
    """The startup, readiness and liveness paths the Deployment probes all answer 200."""
    files = render_tree(make_spec())
    container = yaml.safe_load(files["base/deployment.yaml"])["spec"]["template"]["spec"][
        "containers"
    ][0]
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        path = container[kind]["httpGet"]["path"]
        assert httpx2.get(served.url + path, timeout=5).status_code == 200, path
    metrics_path = yaml.safe_load(files["base/servicemonitor.yaml"])["spec"]["endpoints"][0]["path"]
    assert httpx2.get(served.metrics_url.replace("/metrics", metrics_path), timeout=5).is_success
