"""Prices: the bundled genai-prices data, tiers, dates, and the author's overrides."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from greenlang_runtime import AgentRuntime, ConfigError
from greenlang_runtime.llm import LLMAccounting, Usage
from greenlang_runtime.llm.pricing import Price, PriceBook

TODAY = datetime.date(2026, 12, 1)


def cost(provider: str, model: str, usage: Usage, day: datetime.date = TODAY) -> float | None:
    """What ``usage`` of ``model`` costs with the bundled prices only."""
    price = PriceBook().price(provider, model, day)
    return None if price is None else price.cost(usage)


def test_cache_reads_and_writes_priced_apart() -> None:
    """sonnet-4-5: uncached input, cache read, 5-minute write and output each at their rate."""
    usage = Usage(input=700, cache_read=200, cache_write_5m=100, output=500)
    assert cost("anthropic", "claude-sonnet-4-5", usage) == pytest.approx(
        (700 * 3 + 200 * 0.30 + 100 * 3.75 + 500 * 15) / 1e6  # = 0.010035
    )


def test_one_hour_cache_writes_cost_more_than_five_minute_ones() -> None:
    """sonnet-4-5: 1-hour cache writes at 6 per million, 5-minute ones at 3.75."""
    usage = Usage(input=700, cache_write_5m=100, cache_write_1h=200, output=500)
    assert cost("anthropic", "claude-sonnet-4-5", usage) == pytest.approx(
        (700 * 3 + 100 * 3.75 + 200 * 6 + 500 * 15) / 1e6  # = 0.011175
    )


def test_long_context_tier_applies_to_all_tokens_past_200k() -> None:
    """sonnet-4-5 past 200k prompt tokens: every token at the long-context rate."""
    long = Usage(input=250_000, output=500)
    assert cost("anthropic", "claude-sonnet-4-5", long) == pytest.approx(
        (250_000 * 6 + 500 * 22.5) / 1e6  # = 1.51125
    )
    at_start = Usage(input=200_000, output=500)  # not past the start: base rates
    assert cost("anthropic", "claude-sonnet-4-5", at_start) == pytest.approx(
        (200_000 * 3 + 500 * 15) / 1e6  # = 0.6075
    )


def test_cache_reads_count_towards_the_tier() -> None:
    """150k uncached + 60k cache read is a 210k prompt: long-context rates for both."""
    usage = Usage(input=150_000, cache_read=60_000, output=500)
    assert cost("anthropic", "claude-sonnet-4-5", usage) == pytest.approx(
        (150_000 * 6 + 60_000 * 0.6 + 500 * 22.5) / 1e6  # = 0.94725
    )


def test_dated_model_ids_resolve_to_their_family() -> None:
    """claude-haiku-4-5-20251001 costs what claude-haiku-4-5 costs (1 in, 5 out)."""
    usage = Usage(input=1000, output=100)
    assert cost("anthropic", "claude-haiku-4-5-20251001", usage) == pytest.approx(
        (1000 * 1 + 100 * 5) / 1e6  # = 0.0015
    )


def test_the_price_in_force_on_the_day_applies() -> None:
    """o3 cost 10/40 per million until 2025-06-09 and 2/8 from 2025-06-10."""
    usage = Usage(input=1000, output=1000)
    before = cost("openai", "o3", usage, datetime.date(2025, 6, 9))
    after = cost("openai", "o3", usage, datetime.date(2025, 6, 10))
    assert before == pytest.approx((1000 * 10 + 1000 * 40) / 1e6)  # = 0.05
    assert after == pytest.approx((1000 * 2 + 1000 * 8) / 1e6)  # = 0.01


def test_openai_cache_writes_fall_back_to_the_input_price() -> None:
    """gpt-4o has no cache-write price: written tokens cost its input price, 2.5."""
    usage = Usage(input=500, cache_read=200, cache_write_5m=300, output=100)
    assert cost("openai", "gpt-4o", usage) == pytest.approx(
        (500 * 2.5 + 200 * 1.25 + 300 * 2.5 + 100 * 10) / 1e6  # = 0.00325
    )


def test_unknown_model_has_no_price() -> None:
    """A model neither bundled nor overridden has no price."""
    assert cost("openai", "no-such-model-anywhere", Usage(input=10)) is None


def test_override_replaces_the_family_price_including_dated_ids() -> None:
    """An override of claude-sonnet-4-5 also prices claude-sonnet-4-5-20250929."""
    book = PriceBook({("anthropic", "claude-sonnet-4-5"): Price.of(1.0, 2.0)})
    price = book.price("anthropic", "claude-sonnet-4-5-20250929", TODAY)
    assert price is not None
    usage = Usage(input=1000, cache_read=100, output=1000)
    # cache_read not given: the input price.
    assert price.cost(usage) == pytest.approx((1000 * 1 + 100 * 1 + 1000 * 2) / 1e6)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_prices_file_adds_a_model(tmp_path: Path) -> None:
    """A YAML entry prices a model the bundled data does not know."""
    path = write(
        tmp_path,
        "prices.yaml",
        "prices:\n  - {provider: openai, model: my-model, input: 0.5, output: 1.5,"
        " cache_read: 0.05, cache_write: 0.6}\n",
    )
    runtime = AgentRuntime(environ={"GL_LLM_PRICES_FILE": path})
    price = runtime.llm.prices.price("openai", "my-model", TODAY)
    assert price is not None
    usage = Usage(input=1000, cache_read=400, cache_write_5m=100, output=200)
    assert price.cost(usage) == pytest.approx(
        (1000 * 0.5 + 400 * 0.05 + 100 * 0.6 + 200 * 1.5) / 1e6  # = 0.00088
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "bad.json",
            json.dumps({"prices": [{"provider": "openai", "model": "m", "input": "abc"}]}),
            "entry 1 (openai/m): field 'input' must be a non-negative number",
        ),
        (
            "bad.yaml",
            "prices:\n  - {provider: openai, model: a, input: 1, output: 1}\n"
            "  - {provider: openai, model: b, input: 1}\n",
            "entry 2 (openai/b): field 'output' is missing",
        ),
        (
            "bad.yaml",
            "prices:\n  - {provider: google, model: g, input: 1, output: 1}\n",
            "entry 1 (google/g): field 'provider' must be one of anthropic, openai",
        ),
        (
            "bad.yaml",
            "prices:\n  - {provider: openai, model: m, input: 1, output: 1, cached: 2}\n",
            "entry 1 (openai/m): field 'cached' is not one of",
        ),
        (
            "bad.yaml",
            "prices:\n  - {provider: openai, model: m, input: -1, output: 1}\n",
            "entry 1 (openai/m): field 'input' must be a non-negative number",
        ),
        ("bad.json", '{"prices": [{"input": NaN}]}', "it is not valid JSON"),
        ("bad.yaml", "models: []\n", 'the single key "prices"'),
        ("bad.yaml", "prices: [\n", "it is not valid YAML"),
    ],
)
def test_bad_prices_file_fails_the_start_with_one_line(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    """A faulty file stops the runtime with one line naming the file, the entry and the field."""
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError) as raised:
        AgentRuntime(environ={"GL_LLM_PRICES_FILE": path})
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"GL_LLM_PRICES_FILE={path!r} is invalid")
    assert expected in message


def test_missing_prices_file_fails_the_start(tmp_path: Path) -> None:
    """A file that does not exist stops the runtime, naming the variable and the path."""
    path = str(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="the file cannot be read"):
        AgentRuntime(environ={"GL_LLM_PRICES_FILE": path})


def test_set_price_rejects_bad_values_naming_model_and_field() -> None:
    """set_price() refuses a negative rate, naming the model and the field."""
    accounting = LLMAccounting(AgentRuntime(environ={}).identity)
    with pytest.raises(ValueError, match=r"'my-model'.*cache_read must be a non-negative"):
        accounting.set_price("openai", "my-model", input=1, output=2, cache_read=-1)
    with pytest.raises(ValueError, match="provider must be one of"):
        accounting.set_price("mistral", "m", input=1, output=2)


# A YAML scalar for each rate that breaks the rule, and its repr in the message.
BAD_RATES = [("-0.5", "-0.5"), ("true", "True"), (".inf", "inf"), ("'1'", "'1'")]


@pytest.mark.parametrize(("yaml_value", "shown"), BAD_RATES)
def test_set_price_and_the_prices_file_refuse_the_same_rates(
    tmp_path: Path, yaml_value: str, shown: str
) -> None:
    """One rule: a rate the file refuses, set_price() refuses with the same words."""
    rule = f"must be a non-negative number of USD per million tokens, not {shown}"
    path = tmp_path / "prices.yaml"
    entry = f"{{provider: openai, model: m, input: 1, output: 1, cache_write: {yaml_value}}}"
    path.write_text(f"prices:\n  - {entry}\n")
    with pytest.raises(ConfigError) as refused:
        AgentRuntime(environ={"GL_LLM_PRICES_FILE": str(path)})
    assert f"entry 1 (openai/m): field 'cache_write' {rule}" in str(refused.value)
    accounting = LLMAccounting(AgentRuntime(environ={}).identity)
    value = {"-0.5": -0.5, "true": True, ".inf": float("inf"), "'1'": "1"}[yaml_value]
    with pytest.raises(ValueError, match=r"^set_price") as also_refused:
        accounting.set_price("openai", "m", input=1, output=1, cache_write=value)  # type: ignore[arg-type]
    assert str(also_refused.value) == f"set_price('openai', 'm'): cache_write {rule}"
