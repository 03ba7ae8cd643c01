"""The ``agent_llm_*`` families are in the exposition from the start, with nothing loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import httpx2
import pytest

from tests.helpers import ServedAgent

# Contract section 4: the families that do not depend on the ledger or a budget.
FAMILIES = {
    "agent_llm_tokens_total": "counter",
    "agent_llm_cost_usd_total": "counter",
    "agent_llm_requests_total": "counter",
    "agent_llm_request_duration_seconds": "histogram",
    "agent_llm_time_to_first_token_seconds": "histogram",
    "agent_llm_unpriced_requests_total": "counter",
}
# The clients, the price data and the modules that read it.
NOT_LOADED = [
    "anthropic",
    "openai",
    "genai_prices",
    "greenlang_runtime.llm.pricing",
    "greenlang_runtime.llm._price_file",
]


def _declared(exposition: str) -> dict[str, dict[str, str]]:
    """Each ``agent_llm_*`` family's HELP and TYPE lines, by family name."""
    found: dict[str, dict[str, str]] = {}
    for line in exposition.splitlines():
        parts = line.split(" ", 3)
        if len(parts) >= 4 and parts[0] == "#" and parts[2].startswith("agent_llm_"):
            found.setdefault(parts[2], {})[parts[1]] = parts[3]
    return found


def _check(exposition: str) -> None:
    declared = _declared(exposition)
    assert {name: lines.get("TYPE") for name, lines in declared.items()} == FAMILIES
    assert all(lines.get("HELP") for lines in declared.values())


def test_a_new_runtime_exposes_every_llm_family_without_loading_clients_or_prices() -> None:
    """In a fresh interpreter, AgentRuntime() alone: six families declared, nothing LLM loaded."""
    code = (
        "import sys, json\n"
        "from prometheus_client import generate_latest\n"
        "from greenlang_runtime import AgentRuntime\n"
        "runtime = AgentRuntime(agent_id='fresh', environ={})\n"
        "text = generate_latest(runtime.registry).decode()\n"
        f"loaded = [m for m in {NOT_LOADED!r} if m in sys.modules]\n"
        "print(json.dumps({'text': text, 'loaded': loaded}))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    result = json.loads(output.stdout)
    _check(result["text"])
    assert result["loaded"] == []


AGENT = f"""
    import sys
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime()

    @runtime.capability
    def loaded(payload):
        return [m for m in {NOT_LOADED!r} if m in sys.modules]
"""


@pytest.mark.integration
def test_a_served_agent_exposes_every_llm_family_before_any_client(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """A served agent with no LLM client: /metrics declares the six families; nothing loaded."""
    agent = serve_agent(AGENT)
    agent.wait_until("/health/startup")
    _check(httpx2.get(agent.metrics_url).text)
    response = httpx2.post(agent.url + "/v1/capabilities/loaded", json={})
    assert (response.status_code, response.json()) == (200, [])
