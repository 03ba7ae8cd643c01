"""A served agent's LLM calls, every call form, as ledger rows after SIGTERM."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx2
import pytest

from greenlang_runtime.testing import FakeLLMServer, FakeUsage
from tests.helpers import ServedAgent
from tests.ledger.agents import CALLS_AGENT
from tests.ledger.conftest import LedgerDatabase, scrape

pytestmark = pytest.mark.integration

SONNET, GPT, EMBED = "claude-sonnet-4-5", "gpt-4o", "text-embedding-3-small"
IDENTITY = {
    "AGENT_ID": "cbam-calculator",
    "AGENT_VERSION": "2.3.1",
    "TENANT_ID": "customer-abc",
    "ENVIRONMENT": "staging",
}
# Anthropic: 700 uncached input, 500 output, 200 cache reads, 100 5-minute cache writes.
CLAUDE_USAGE = FakeUsage(
    input_tokens=700, output_tokens=500, cache_read_tokens=200, cache_write_5m_tokens=100
)
CLAUDE_TOKENS = (700, 500, 200, 100)
CLAUDE_COST = Decimal("0.010035")  # (700*3 + 200*0.30 + 100*3.75 + 500*15) / 1e6
# OpenAI: prompt_tokens 1000 of which 200 cached, 300 completion tokens.
GPT_USAGE = FakeUsage(input_tokens=1000, output_tokens=300, cache_read_tokens=200)
GPT_TOKENS = (800, 300, 200, 0)
GPT_COST = Decimal("0.00525")  # (800*2.5 + 200*1.25 + 300*10) / 1e6
EMBED_USAGE = FakeUsage(input_tokens=1000, output_tokens=0)
EMBED_COST = Decimal("0.00002")  # 1000 * 0.02 / 1e6
# The startup hook's call, with the fake's default usage: 10 input, 5 output.
DEFAULT_COST = Decimal("0.000105")  # (10*3 + 5*15) / 1e6
# Abandoned after the first text delta: message_start's input side and 1 output token.
EARLY_COST = Decimal("0.00255")  # (700*3 + 200*0.30 + 100*3.75 + 1*15) / 1e6
CLAUDE_FORMS = ("messages.create", "messages.create(stream)", "messages.stream")
GPT_FORMS = (
    "chat.create",
    "chat.create(stream)",
    "responses.create",
    "responses.create(stream)",
)
# Importing both clients takes seconds on a busy machine: a bound on a hang.
STARTUP_SECONDS = 90.0
HOUSE_MODELS = [f"house-model-{i:02d}" for i in range(26)]


def ledger_env(db: LedgerDatabase, fake: FakeLLMServer, **extra: str) -> dict[str, str]:
    return {
        "GL_LLM_LEDGER_URL": db.url,
        "FAKE_LLM_URL": fake.url,
        "GL_PRESTOP_DELAY_SECONDS": "0",
        **IDENTITY,
        **extra,
    }


def call(agent: ServedAgent, capability: str, **payload: Any) -> None:
    response = httpx2.post(f"{agent.url}/v1/capabilities/{capability}", json=payload, timeout=30)
    assert response.status_code == 200, response.text


def expect(
    capability: str | None,
    provider: str,
    model: str,
    status: str,
    tokens: tuple[int, int, int, int],
    cost: Decimal,
    priced: bool = True,
) -> tuple[Any, ...]:
    return (capability, provider, model, status, *tokens, cost, priced)


def test_every_call_form_is_one_row_with_every_column_as_computed(
    serve_agent: Callable[..., ServedAgent], ledger_db: LedgerDatabase, fake: FakeLLMServer
) -> None:
    """After SIGTERM and exit 0: one row per call, each column as computed by hand."""
    began = time.time()
    # A flush interval past the test: every row is still pending at SIGTERM, so
    # the drain is what writes them.
    agent = serve_agent(
        CALLS_AGENT, ledger_env(ledger_db, fake, GL_LLM_LEDGER_FLUSH_SECONDS="60"), wait=False
    )
    agent.wait_until("/health/startup", timeout=STARTUP_SECONDS)
    expected = [expect(None, "anthropic", SONNET, "success", (10, 5, 0, 0), DEFAULT_COST)]
    for capability in ("sync_call", "async_call"):
        fake.usage = CLAUDE_USAGE
        for form in CLAUDE_FORMS:
            call(agent, capability, form=form)
            expected.append(
                expect(capability, "anthropic", SONNET, "success", CLAUDE_TOKENS, CLAUDE_COST)
            )
        fake.usage = GPT_USAGE
        for form in GPT_FORMS:
            call(agent, capability, form=form)
            expected.append(expect(capability, "openai", GPT, "success", GPT_TOKENS, GPT_COST))
        fake.usage = EMBED_USAGE
        call(agent, capability, form="embeddings.create")
        expected.append(expect(capability, "openai", EMBED, "success", (1000, 0, 0, 0), EMBED_COST))
    fake.usage = CLAUDE_USAGE
    fake.fail(500)
    call(agent, "sync_call", form="error")
    expected.append(expect("sync_call", "anthropic", SONNET, "error", (0, 0, 0, 0), Decimal(0)))
    call(agent, "sync_call", form="abandoned")
    expected.append(
        expect("sync_call", "anthropic", SONNET, "abandoned", (700, 1, 200, 100), EARLY_COST)
    )
    # The model the response reports, in full (a dated id, priced as its family).
    fake.response_model = "claude-sonnet-4-5-20250929"
    call(agent, "sync_call", form="messages.create")
    expected.append(
        expect(
            "sync_call",
            "anthropic",
            "claude-sonnet-4-5-20250929",
            "success",
            CLAUDE_TOKENS,
            CLAUDE_COST,
        )
    )
    fake.response_model = None
    # More models than the metrics keep as labels: rows keep every name, unpriced.
    fake.usage = GPT_USAGE
    for model in HOUSE_MODELS:
        call(agent, "sync_call", form="chat.create", model=model)
        expected.append(
            expect("sync_call", "openai", model, "success", GPT_TOKENS, Decimal(0), priced=False)
        )
    fake.usage = CLAUDE_USAGE
    call(agent, "later")
    expected.append(expect("later", "anthropic", SONNET, "success", CLAUDE_TOKENS, CLAUDE_COST))
    deadline = time.monotonic() + 20
    while scrape(agent).get("agent_llm_requests_total", 0) < len(expected):
        assert time.monotonic() < deadline, "the create_task call never ended"
        time.sleep(0.05)
    scraped = scrape(agent)
    metrics_text = httpx2.get(agent.metrics_url).text
    assert 'model="other"' in metrics_text
    ready = httpx2.get(f"{agent.url}/health/ready")
    assert ready.json()["checks"]["llm-ledger"]["status"] == "up"
    assert scraped["agent_llm_ledger_dropped_total"] == 0
    assert scraped["agent_llm_ledger_rows_total"] + scraped["agent_llm_ledger_pending"] == len(
        expected
    )

    status, log = agent.stop()
    ended = time.time()
    assert status == 0, log

    rows = ledger_db.rows()
    assert len(rows) == len(expected) == 47
    got = sorted(
        (
            (
                r["capability"],
                r["provider"],
                r["model"],
                r["status"],
                r["input_tokens"],
                r["output_tokens"],
                r["cache_read_tokens"],
                r["cache_write_tokens"],
                r["cost_usd"],
                r["priced"],
            )
            for r in rows
        ),
        key=repr,
    )
    assert got == sorted(expected, key=repr)
    assert len({r["call_id"] for r in rows}) == len(rows)
    for row in rows:
        assert isinstance(row["call_id"], uuid.UUID)
        assert row["call_id"].version == 7
        assert began <= row["started_at"].timestamp() <= row["ended_at"].timestamp() <= ended
        assert row["started_at"].utcoffset() is not None
        assert (row["agent_id"], row["version"], row["tenant_id"], row["environment"]) == (
            "cbam-calculator",
            "2.3.1",
            "customer-abc",
            "staging",
        )
        assert row["trace_id"] is None  # no tracing configured
    # The cost in the database is what the counter got.
    total = sum(r["cost_usd"] for r in rows)
    assert abs(float(total) - scraped["agent_llm_cost_usd_total"]) < 1e-9
    for text in (log, metrics_text, ready.text):
        assert ledger_db.server.password not in text


def test_calls_still_running_at_sigterm_are_written_by_the_drain(
    serve_agent: Callable[..., ServedAgent], ledger_db: LedgerDatabase, fake: FakeLLMServer
) -> None:
    """A request and a create_task call in flight at SIGTERM: both rows, written before exit."""
    env = ledger_env(ledger_db, fake, GL_LLM_LEDGER_FLUSH_SECONDS="60", LATER_SECONDS="1")
    agent = serve_agent(CALLS_AGENT, env, wait=False)
    agent.wait_until("/health/startup", timeout=STARTUP_SECONDS)
    fake.response_delay = 1.5
    in_flight = threading.Thread(
        target=call, args=(agent, "sync_call"), kwargs={"form": "messages.create"}
    )
    in_flight.start()
    call(agent, "later")
    deadline = time.monotonic() + 20
    while len(fake.requests) < 2:  # the startup call's, then the request's
        assert time.monotonic() < deadline, "the request's LLM call never started"
        time.sleep(0.02)
    status, log = agent.stop()
    in_flight.join(30)
    assert status == 0, log
    rows = ledger_db.rows()
    assert sorted((r["capability"] or "", r["status"]) for r in rows) == [
        ("", "success"),
        ("later", "success"),
        ("sync_call", "success"),
    ]


def test_two_workers_each_write_their_rows_and_the_totals_add_up(
    serve_agent: Callable[..., ServedAgent], ledger_db: LedgerDatabase, fake: FakeLLMServer
) -> None:
    """GL_WORKERS=2: every call a row, tokens and cost summed over the workers, exactly."""
    agent = serve_agent(CALLS_AGENT, ledger_env(ledger_db, fake, GL_WORKERS="2"), wait=False)
    agent.wait_until("/health/ready", timeout=STARTUP_SECONDS)
    fake.usage = CLAUDE_USAGE
    for _ in range(20):
        call(agent, "sync_call", form="messages.create")
    scraped = scrape(agent)
    # Each worker's startup hook made one call with the fake's default usage (10 in, 5 out).
    assert scraped["agent_llm_requests_total"] == 22
    assert scraped["agent_llm_tokens_total"] == 2 * (10 + 5) + 20 * (700 + 500 + 200 + 100)
    cost = 2 * DEFAULT_COST + 20 * CLAUDE_COST
    assert abs(scraped["agent_llm_cost_usd_total"] - float(cost)) < 1e-9
    status, log = agent.stop()
    assert status == 0, log
    rows = ledger_db.rows()
    assert len(rows) == 22
    assert sum(r["cost_usd"] for r in rows) == cost
