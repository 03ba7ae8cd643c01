"""explain: a clear answer with no provider, and an accounted LLM call with one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from greenlang_runtime.testing import (
    FakeLLMServer,
    FakeUsage,
    PostgresServer,
    RuntimeClient,
    metric_value,
)
from tests.examples.conftest import EXPLAIN
from tests.ledger.conftest import LedgerDatabase

PAYLOAD = {"lines": [{"cn_code": "2814 10 00", "quantity": 3}]}
# 3 t of ammonia at 2.68 direct and 0.14 indirect tCO2e per tonne.
CALCULATION = {
    "lines": [
        {
            "cn_code": "28141000",
            "description": "Ammonia, anhydrous or in aqueous solution",
            "quantity": 3.0,
            "unit": "t",
            "country_of_origin": None,
            "direct_factor": 2.68,
            "indirect_factor": 0.14,
            "direct_tco2e": 8.04,
            "indirect_tco2e": 0.42,
            "total_tco2e": 8.46,
        }
    ],
    "totals": {"direct_tco2e": 8.04, "indirect_tco2e": 0.42, "total_tco2e": 8.46},
    "factors": "bundled",
}


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    """A local server speaking Anthropic's and OpenAI's APIs."""
    with FakeLLMServer(text="Your 3 t of ammonia embed 8.46 tCO2e.") as server:
        yield server


def test_without_a_key_explain_says_it_is_not_configured(client: RuntimeClient) -> None:
    """200 with configured=false, what to set, and the calculation; no LLM call is counted."""
    response = client.post(EXPLAIN, json=PAYLOAD)
    assert response.status_code == 200
    assert response.json() == {
        "configured": False,
        "provider": None,
        "model": None,
        "narrative": None,
        "message": "explain needs an LLM provider: set ANTHROPIC_API_KEY (or OPENAI_API_KEY) "
        "in the agent's environment and restart it. The calculation is included.",
        "calculation": CALCULATION,
    }
    runtime = client.runtime
    labels = {"capability": "explain", "status": "success"}
    assert metric_value(runtime, "agent_requests_total", labels) == 1
    assert not any(
        sample.name.startswith("agent_llm_")
        for family in runtime.registry.collect()
        for sample in family.samples
    )


@pytest.mark.integration
def test_explain_with_anthropic_counts_tokens_and_cost(
    make_client: Callable[..., RuntimeClient], llm: FakeLLMServer
) -> None:
    """The narrative comes from the model; tokens and cost are counted for claude-haiku-4-5."""
    llm.usage = FakeUsage(input_tokens=700, output_tokens=500)
    client = make_client({"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": llm.url})
    body = client.post(EXPLAIN, json=PAYLOAD).json()
    assert body["configured"] is True
    assert (body["provider"], body["model"]) == ("anthropic", "claude-haiku-4-5")
    assert body["narrative"] == "Your 3 t of ammonia embed 8.46 tCO2e."
    assert body["calculation"] == CALCULATION
    # The model was given the calculation to narrate.
    path, request = llm.requests[-1]
    assert path == "/v1/messages"
    assert '"total_tco2e":8.46' in request["messages"][0]["content"]
    runtime, model = client.runtime, {"provider": "anthropic", "model": "claude-haiku-4-5"}
    tokens = "agent_llm_tokens_total"
    assert metric_value(runtime, tokens, {**model, "token_type": "input"}) == 700
    assert metric_value(runtime, tokens, {**model, "token_type": "output"}) == 500
    # Haiku 4.5: 1 USD per million input tokens, 5 USD per million output tokens.
    cost = metric_value(runtime, "agent_llm_cost_usd_total", model)
    assert cost == pytest.approx(700 * 1 / 1e6 + 500 * 5 / 1e6)
    status = {**model, "status": "success"}
    assert metric_value(runtime, "agent_llm_requests_total", status) == 1


@pytest.mark.integration
def test_explain_with_openai_when_only_its_key_is_set(
    make_client: Callable[..., RuntimeClient], llm: FakeLLMServer
) -> None:
    """OPENAI_API_KEY alone: gpt-4o-mini writes it, and its tokens and cost are counted."""
    llm.usage = FakeUsage(input_tokens=1200, output_tokens=300)
    client = make_client({"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": llm.openai_url})
    body = client.post(EXPLAIN, json=PAYLOAD).json()
    assert (body["provider"], body["model"]) == ("openai", "gpt-4o-mini")
    assert body["narrative"] == "Your 3 t of ammonia embed 8.46 tCO2e."
    assert llm.requests[-1][0] == "/v1/chat/completions"
    model = {"provider": "openai", "model": "gpt-4o-mini"}
    assert (
        metric_value(client.runtime, "agent_llm_tokens_total", {**model, "token_type": "input"})
        == 1200
    )
    # gpt-4o-mini: 0.15 USD per million input tokens, 0.60 USD per million output tokens.
    cost = metric_value(client.runtime, "agent_llm_cost_usd_total", model)
    assert cost == pytest.approx(1200 * 0.15 / 1e6 + 300 * 0.60 / 1e6)


@pytest.mark.integration
def test_a_failing_provider_is_an_agent_error(
    make_client: Callable[..., RuntimeClient], llm: FakeLLMServer
) -> None:
    """The provider answering 500 makes explain a 500, counted as the agent's error."""
    client = make_client(
        {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": llm.url, "CBAM_LLM_MODEL": "m"}
    )
    llm.fail(500, times=10)  # the client retries; every attempt fails
    response = client.post(EXPLAIN, json=PAYLOAD)
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "capability_error"
    labels = {"capability": "explain", "status": "error"}
    assert metric_value(client.runtime, "agent_requests_total", labels) == 1


@pytest.mark.integration
def test_explain_calls_are_rows_of_the_ledger_when_it_is_configured(
    make_client: Callable[..., RuntimeClient], llm: FakeLLMServer, postgres: PostgresServer
) -> None:
    """GL_LLM_LEDGER_URL set: each explain call is one ledger row, written by the shutdown."""
    database = LedgerDatabase(postgres)
    database.run(f"CREATE DATABASE {database.name}", database="postgres")
    llm.usage = FakeUsage(input_tokens=700, output_tokens=500)
    client = make_client(
        {
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": llm.url,
            "GL_LLM_LEDGER_URL": database.url,
        }
    )
    for _ in range(2):
        assert client.post(EXPLAIN, json=PAYLOAD).json()["configured"] is True
    client.__exit__(None, None, None)  # the shutdown writes what is pending
    rows = database.rows()
    assert [(r["capability"], r["model"], r["agent_id"], r["tenant_id"]) for r in rows] == [
        ("explain", "claude-haiku-4-5", "cbam-calculator", "demo")
    ] * 2
    # Haiku 4.5: 700 * 1 + 500 * 5 USD per million tokens.
    assert [r["cost_usd"] for r in rows] == [Decimal("0.0032")] * 2
    database.run(f"DROP DATABASE {database.name} WITH (FORCE)", database="postgres")
