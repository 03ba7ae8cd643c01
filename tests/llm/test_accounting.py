"""Unknown models, price overrides and a flood of model names, through real clients."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from greenlang_runtime import AgentRuntime
from greenlang_runtime.llm._collector import MAX_MODELS
from greenlang_runtime.testing import FakeLLMServer, FakeUsage, metric_value
from tests.llm.conftest import Read

pytestmark = pytest.mark.integration

ASK: dict[str, Any] = {"max_tokens": 64, "messages": [{"role": "user", "content": "Hello"}]}


def test_unknown_model_counts_tokens_at_no_cost_and_warns_once(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read, caplog: pytest.LogCaptureFixture
) -> None:
    """An unpriced model: tokens counted, cost 0, two unpriced calls, one WARNING naming it."""
    fake.usage = FakeUsage(input_tokens=700, output_tokens=500)
    model = "claude-imaginary-7"
    sdk = anthropic.Anthropic(base_url=fake.url, api_key="test", max_retries=0)
    with runtime.instrument(sdk), caplog.at_level(logging.WARNING, "greenlang_runtime.llm"):
        sdk.messages.create(model=model, **ASK)
        sdk.messages.create(model=model, **ASK)
    tokens = {kind: {"token_type": kind} for kind in ("input", "output")}
    assert llm_value("agent_llm_tokens_total", "anthropic", model, **tokens["input"]) == 1400
    assert llm_value("agent_llm_tokens_total", "anthropic", model, **tokens["output"]) == 1000
    assert llm_value("agent_llm_cost_usd_total", "anthropic", model) == 0
    assert llm_value("agent_llm_unpriced_requests_total", "anthropic", model) == 2
    warnings = [r for r in caplog.records if model in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


def test_price_set_through_the_api(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read
) -> None:
    """runtime.llm.set_price() prices a model of the author's own."""
    runtime.llm.set_price(
        "openai", "my-model", input=0.5, output=1.5, cache_read=0.05, cache_write=0.6
    )
    fake.usage = FakeUsage(
        input_tokens=1000, output_tokens=200, cache_read_tokens=400, cache_write_tokens=100
    )
    sdk = openai.OpenAI(base_url=fake.openai_url, api_key="test", max_retries=0)
    with runtime.instrument(sdk):
        sdk.chat.completions.create(model="my-model", messages=[{"role": "user", "content": "Hi"}])
    cost = (500 * 0.5 + 400 * 0.05 + 100 * 0.6 + 200 * 1.5) / 1e6  # = 0.00063
    assert llm_value("agent_llm_cost_usd_total", "openai", "my-model") == pytest.approx(cost)
    assert llm_value("agent_llm_unpriced_requests_total", "openai", "my-model") == 0


def test_prices_file_overrides_a_bundled_family(
    make_runtime: Callable[..., AgentRuntime], fake: FakeLLMServer, tmp_path: Path
) -> None:
    """GL_LLM_PRICES_FILE pricing claude-sonnet-4-5 also prices its dated id."""
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "prices:\n  - {provider: anthropic, model: claude-sonnet-4-5, input: 1, output: 2}\n"
    )
    runtime = make_runtime(environ={"GL_LLM_PRICES_FILE": str(prices)})
    fake.usage = FakeUsage(
        input_tokens=700, output_tokens=500, cache_read_tokens=200, cache_write_5m_tokens=100
    )
    model = "claude-sonnet-4-5-20250929"
    sdk = anthropic.Anthropic(base_url=fake.url, api_key="test", max_retries=0)
    with runtime.instrument(sdk):
        sdk.messages.create(model=model, **ASK)
    # cache_read and cache_write not given: the input price, 1.
    cost = (700 * 1 + 200 * 1 + 100 * 1 + 500 * 2) / 1e6  # = 0.002
    labels = {"provider": "anthropic", "model": model}
    assert metric_value(runtime, "agent_llm_cost_usd_total", labels) == pytest.approx(cost)


def test_model_name_flood_does_not_grow_the_series(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read
) -> None:
    """200 distinct model names: 25 kept, the rest under other, totals exact."""
    fake.usage = FakeUsage(input_tokens=100, output_tokens=10)
    sdk = anthropic.Anthropic(base_url=fake.url, api_key="test", max_retries=0)
    calls = 200
    with runtime.instrument(sdk):
        for number in range(calls):
            # Dated ids of claude-haiku-4-5: all priced at 1 in, 5 out.
            sdk.messages.create(model=f"claude-haiku-4-5-{number:08d}", **ASK)
    samples = [
        sample
        for family in runtime.registry.collect()
        if family.name == "agent_llm_requests"
        for sample in family.samples
        if sample.labels["status"] == "success"
    ]
    models = {sample.labels["model"] for sample in samples}
    assert len(models) == MAX_MODELS + 1
    assert "other" in models
    assert sum(sample.value for sample in samples) == calls
    other = llm_value("agent_llm_requests_total", "anthropic", "other", status="success")
    assert other == calls - MAX_MODELS
    costs = [
        sample.value
        for family in runtime.registry.collect()
        if family.name == "agent_llm_cost_usd"
        for sample in family.samples
    ]
    assert sum(costs) == pytest.approx(calls * (100 * 1 + 10 * 5) / 1e6)  # = 0.03
