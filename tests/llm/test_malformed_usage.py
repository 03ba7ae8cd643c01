"""Usage reports no provider means to send: the instrumented client acts as the plain one.

The fake server sends them through the official clients, which build their
response models without checking them: a count may be negative, a string,
a float, a bool, ``null`` or too large for a float, the whole ``usage`` a
list, the ``model`` a number. Each form of call is made with a plain and
with an instrumented client; both must give the same result (or raise the
same error), the scrape must work, and the counters must hold exactly the
counts worked out here.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from prometheus_client import generate_latest

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import FakeLLMServer, FakeUsage
from greenlang_runtime.testing._fake_wire import RawUsage
from tests.llm.conftest import TOKEN_TYPES, Read

pytestmark = pytest.mark.integration

ASK: dict[str, Any] = {"max_tokens": 64, "messages": [{"role": "user", "content": "Hello"}]}
CHAT: dict[str, Any] = {"messages": [{"role": "user", "content": "Hello"}]}

# (what the report holds as its input count, what is counted, what is counted
# from an Anthropic stream). Output is 3 throughout. The anthropic client
# validates stream events (in pydantic's lax mode) where it takes whole
# messages as they are: its events already hold "12" as 12 and true as 1.
COUNTS: dict[str, tuple[Any, int, int]] = {
    "negative": (-5, 0, 0),
    "string": ("12", 0, 12),
    "float": (12.7, 12, 12),
    "null": (None, 0, 0),
    "bool": (True, 0, 1),
    "huge": (10**30, 0, 0),
    "beyond-float": (10**400, 0, 0),
}

# An outcome a client gives: ("returned", what the caller can see) or ("raised", class, text).
Outcome = tuple[Any, ...]
# A form of call: (provider, is_async, run(client, model) -> Outcome, input field of usage).
Form = tuple[str, bool, Callable[[Any, str], Any], str]


def _seen(item: Any) -> Any:
    """What a caller sees of a response or a stream event, without per-reply timestamps."""
    seen = []
    for name in ("type", "model", "usage", "data", "message", "response", "choices"):
        value = getattr(item, name, None)
        if name in ("message", "response") and value is not None:
            value = (getattr(value, "model", None), getattr(value, "usage", None))
        seen.append(value)
    return tuple(seen)


def _sync(call: Callable[[], Any]) -> Outcome:
    try:
        result = call()
        if isinstance(result, anthropic.Stream | openai.Stream):
            return ("returned", [_seen(item) for item in result])
        return ("returned", _seen(result))
    except Exception as error:
        return ("raised", type(error), str(error))


def _anthropic_helper(client: anthropic.Anthropic, model: str) -> Outcome:
    def call() -> Any:
        with client.messages.stream(model=model, **ASK) as stream:
            events = [_seen(event) for event in stream]
            return events, _seen(stream.get_final_message())

    try:
        with warnings.catch_warnings():
            # The helper's snapshot warns of a model that is not a string.
            warnings.simplefilter("ignore", UserWarning)
            return ("returned", call())
    except Exception as error:
        return ("raised", type(error), str(error))


async def _async(call: Callable[[], Any]) -> Outcome:
    try:
        result = await call()
        if isinstance(result, anthropic.AsyncStream | openai.AsyncStream):
            return ("returned", [_seen(item) async for item in result])
        return ("returned", _seen(result))
    except Exception as error:
        return ("raised", type(error), str(error))


FORMS: dict[str, Form] = {
    "anthropic-create": (
        "anthropic",
        False,
        lambda c, m: _sync(lambda: c.messages.create(model=m, **ASK)),
        "input_tokens",
    ),
    "anthropic-stream": (
        "anthropic",
        False,
        lambda c, m: _sync(lambda: c.messages.create(model=m, stream=True, **ASK)),
        "input_tokens",
    ),
    "anthropic-stream-helper": ("anthropic", False, _anthropic_helper, "input_tokens"),
    "anthropic-async-create": (
        "anthropic",
        True,
        lambda c, m: _async(lambda: c.messages.create(model=m, **ASK)),
        "input_tokens",
    ),
    "anthropic-async-stream": (
        "anthropic",
        True,
        lambda c, m: _async(lambda: c.messages.create(model=m, stream=True, **ASK)),
        "input_tokens",
    ),
    "openai-chat": (
        "openai",
        False,
        lambda c, m: _sync(lambda: c.chat.completions.create(model=m, **CHAT)),
        "prompt_tokens",
    ),
    "openai-chat-stream": (
        "openai",
        False,
        lambda c, m: _sync(lambda: c.chat.completions.create(model=m, stream=True, **CHAT)),
        "prompt_tokens",
    ),
    "openai-async-chat": (
        "openai",
        True,
        lambda c, m: _async(lambda: c.chat.completions.create(model=m, **CHAT)),
        "prompt_tokens",
    ),
    "openai-async-chat-stream": (
        "openai",
        True,
        lambda c, m: _async(lambda: c.chat.completions.create(model=m, stream=True, **CHAT)),
        "prompt_tokens",
    ),
    "openai-responses": (
        "openai",
        False,
        lambda c, m: _sync(lambda: c.responses.create(model=m, input="Hello")),
        "input_tokens",
    ),
    "openai-responses-stream": (
        "openai",
        False,
        lambda c, m: _sync(lambda: c.responses.create(model=m, input="Hello", stream=True)),
        "input_tokens",
    ),
}


def _client(provider: str, is_async: bool, fake: FakeLLMServer) -> Any:
    if provider == "anthropic":
        kind: Any = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
        return kind(base_url=fake.url, api_key="test", max_retries=0)
    kind = openai.AsyncOpenAI if is_async else openai.OpenAI
    return kind(base_url=fake.openai_url, api_key="test", max_retries=0)


def _outcome(form: Form, fake: FakeLLMServer, model: str, runtime: AgentRuntime | None) -> Outcome:
    """Call ``model`` once in ``form`` with a new client, instrumented by ``runtime`` if given."""
    provider, is_async, run, _ = form
    client = _client(provider, is_async, fake)
    if runtime is not None:
        runtime.instrument(client)
    if not is_async:
        with client:
            outcome: Outcome = run(client, model)
            return outcome

    async def call() -> Outcome:
        async with client:
            result: Outcome = await run(client, model)
            return result

    return asyncio.run(call())


def _both(
    form: Form, fake: FakeLLMServer, model: str, runtime: AgentRuntime
) -> tuple[Outcome, Outcome]:
    """The outcome of the plain client, then of the instrumented one, for the same reply."""
    return _outcome(form, fake, model, None), _outcome(form, fake, model, runtime)


def _tokens(read: Read, provider: str, model: str) -> list[float | None]:
    return [
        read("agent_llm_tokens_total", provider, model, token_type=kind) for kind in TOKEN_TYPES
    ]


def _check_forms(
    runtime: AgentRuntime,
    fake: FakeLLMServer,
    read: Read,
    name: str,
    expected: Callable[[str, Outcome], list[int] | None],
    usage: Callable[[str], RawUsage] | None = None,
) -> None:
    """Call every form plain and instrumented: same outcomes, a scrape, the expected tokens.

    ``expected(form name, plain outcome)`` gives the four token counts, or
    ``None`` where the plain client raised (the call is still counted once);
    ``usage(form name)``, when given, what the replies of that form report.
    """
    wrong = {}
    for form_name, form in FORMS.items():
        if usage is not None:
            fake.usage = usage(form_name)
        model = f"model-{name}-{form_name}"
        plain, instrumented = _both(form, fake, model, runtime)
        generate_latest(runtime.registry)  # raises if any sample cannot be written
        tokens = expected(form_name, plain)
        counts = _tokens(read, form[0], model)
        success, error = (
            read("agent_llm_requests_total", form[0], model, status=status) or 0.0
            for status in ("success", "error")
        )
        got: tuple[Any, ...] = (instrumented, counts, success, error)
        want: tuple[Any, ...] = (plain, tokens, 1, 0)
        if tokens is None:
            # The caller's error: whatever was read, the call counted once.
            got, want = (instrumented, success + error), (plain, 1)
        if got != want:
            wrong[form_name] = (got, want)
    assert wrong == {}


@pytest.mark.parametrize("case", COUNTS)
def test_an_unusable_count_is_counted_as_what_it_can_be(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read, case: str
) -> None:
    """In every form: same outcome plain and instrumented; the scrape works; counts as set out."""
    value, counted, counted_in_stream = COUNTS[case]

    def usage(form_name: str) -> RawUsage:
        field = FORMS[form_name][3]
        output = "completion_tokens" if field == "prompt_tokens" else "output_tokens"
        return RawUsage({field: value, output: 3})

    def expected(form_name: str, plain: Outcome) -> list[int]:
        if form_name.startswith("anthropic") and "stream" in form_name:
            return [counted_in_stream, 3, 0, 0]
        return [counted, 3, 0, 0]

    _check_forms(runtime, fake, llm_value, case, expected, usage)


@pytest.mark.parametrize("report", [[1, 2], "lots", 7], ids=["list", "string", "number"])
def test_a_usage_that_is_not_an_object_counts_the_call_and_no_tokens(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read, report: Any
) -> None:
    """A ``usage`` that is a list (or a string, a number): same outcome, one call, no tokens."""
    fake.usage = RawUsage(report)

    def expected(form_name: str, plain: Outcome) -> list[int] | None:
        return [0, 0, 0, 0] if plain[0] == "returned" else None

    _check_forms(runtime, fake, llm_value, f"usage-{type(report).__name__}", expected)


def test_a_numeric_model_is_counted_under_the_requested_one(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read
) -> None:
    """A reply naming model 123: same outcome, the scrape works, counted as the requested model."""
    fake.response_model = 123
    _check_forms(runtime, fake, llm_value, "numeric", lambda form_name, plain: [10, 5, 0, 0])


@pytest.mark.parametrize("form_name", ["anthropic-create", "openai-chat-stream"])
def test_a_model_id_of_ten_thousand_characters_is_counted_as_other(
    runtime: AgentRuntime,
    fake: FakeLLMServer,
    llm_value: Read,
    caplog: pytest.LogCaptureFixture,
    form_name: str,
) -> None:
    """A 10,000-character model id: label ``other``, a short exposition, one short WARNING."""
    form = FORMS[form_name]
    model = form_name + "x" * (10_000 - len(form_name))
    with caplog.at_level(logging.WARNING, "greenlang_runtime.llm"):
        plain, instrumented = _both(form, fake, model, runtime)
        _outcome(form, fake, model, runtime)
        exposition = generate_latest(runtime.registry).decode()
    assert instrumented == plain
    assert _tokens(llm_value, form[0], "other") == [20, 10, 0, 0]
    assert max(len(line) for line in exposition.splitlines()) < 1000
    long_model = [r for r in caplog.records if "longer than 128 characters" in r.getMessage()]
    assert len(long_model) == 1
    assert all(len(record.getMessage()) < 1000 for record in caplog.records)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_counters_never_go_down_and_each_kind_of_fault_is_logged_once(
    runtime: AgentRuntime,
    fake: FakeLLMServer,
    llm_value: Read,
    caplog: pytest.LogCaptureFixture,
    provider: str,
) -> None:
    """A good call, then three negative ones: counts only grow, one WARNING names the field."""
    form = FORMS["anthropic-create" if provider == "anthropic" else "openai-chat"]
    field = form[3]
    output = "completion_tokens" if field == "prompt_tokens" else "output_tokens"
    model = f"model-{provider}-never-down"
    fake.usage = FakeUsage(input_tokens=10, output_tokens=5)
    _outcome(form, fake, model, runtime)
    assert _tokens(llm_value, provider, model) == [10, 5, 0, 0]
    fake.usage = RawUsage({field: -5, output: 3})
    with caplog.at_level(logging.WARNING, "greenlang_runtime.llm"):
        for _ in range(3):
            _outcome(form, fake, model, runtime)
            generate_latest(runtime.registry)
    assert _tokens(llm_value, provider, model) == [10, 5 + 3 * 3, 0, 0]
    faults = [r for r in caplog.records if f"{field}=-5" in r.getMessage()]
    assert len(faults) == 1
    assert model in faults[0].getMessage()
    assert "negative" in faults[0].getMessage()


@pytest.mark.parametrize("form_name", ["anthropic-create", "openai-chat-stream"])
def test_a_model_id_holding_a_key_is_masked_in_the_labels(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read, form_name: str
) -> None:
    """A reply whose model id holds an API key: the label shows ``***`` in its place."""
    form = FORMS[form_name]
    fake.response_model = "proxy/sk-live-0123456789abcdefXYZ"
    _outcome(form, fake, "gpt-4o", runtime)
    exposition = generate_latest(runtime.registry).decode()
    assert "0123456789abcdef" not in exposition
    assert _tokens(llm_value, form[0], "proxy/***") == [10, 5, 0, 0]
