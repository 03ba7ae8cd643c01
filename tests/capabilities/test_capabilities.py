"""Capabilities called directly from Python: same results, and every call measured."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any

import pytest

from greenlang_runtime import AgentRuntime, CapabilityError, InvalidInput
from greenlang_runtime.capabilities import Outcome
from greenlang_runtime.testing import RuntimeClient, metric_value


def requests(runtime: AgentRuntime, capability: str, status: str) -> float | None:
    return metric_value(
        runtime, "agent_requests_total", {"capability": capability, "status": status}
    )


def test_three_decorator_forms_declare_named_capabilities(runtime: AgentRuntime) -> None:
    """Bare, empty-call and named forms all declare, with the right names and descriptions."""

    @runtime.capability
    def plain(payload: dict[str, int]) -> int:
        """Plain form.

        More text that is not the description.
        """
        return 1

    @runtime.capability()
    def called(payload: dict[str, int]) -> int:
        return 2

    @runtime.capability("custom-name", description="Given explicitly.")
    def named(payload: dict[str, int]) -> int:
        """Ignored docstring."""
        return 3

    described = {c.name: c.description for c in runtime.capabilities.values()}
    assert described == {"plain": "Plain form.", "called": "", "custom-name": "Given explicitly."}
    assert (plain({}), called({}), named({})) == (1, 2, 3)


def test_sync_capability_stays_sync_and_counts(runtime: AgentRuntime) -> None:
    """A sync capability returns its value directly, and each call is one success."""

    @runtime.capability
    def double(payload: dict[str, int]) -> int:
        return payload["x"] * 2

    assert double({"x": 21}) == 42
    assert double({"x": 1}) == 2
    assert requests(runtime, "double", "success") == 2
    assert requests(runtime, "double", "error") == 0
    assert (
        metric_value(runtime, "agent_request_duration_seconds_count", {"capability": "double"}) == 2
    )


def test_async_capability_is_awaited_and_counts(runtime: AgentRuntime) -> None:
    """An async capability stays a coroutine function and is measured when awaited."""

    @runtime.capability
    async def slow(payload: dict[str, float]) -> str:
        await asyncio.sleep(payload["seconds"])
        return "done"

    assert asyncio.iscoroutinefunction(slow)
    assert asyncio.run(slow({"seconds": 0.06})) == "done"
    assert requests(runtime, "slow", "success") == 1

    # At least 0.06 s: above the 0.05 bucket, and counted once in all.
    def bucket(le: str) -> float | None:
        labels = {"capability": "slow", "le": le}
        return metric_value(runtime, "agent_request_duration_seconds_bucket", labels)

    assert (bucket("0.01"), bucket("0.05"), bucket("+Inf")) == (0, 0, 1)
    total = metric_value(runtime, "agent_request_duration_seconds_sum", {"capability": "slow"})
    assert total is not None
    assert total >= 0.06


def test_raising_capability_reraises_unchanged_and_counts_error(runtime: AgentRuntime) -> None:
    """The caller gets the very exception; the call counts as an error of its class."""
    raised = KeyError("steel")

    @runtime.capability
    def lookup(payload: object) -> None:
        raise raised

    with pytest.raises(KeyError) as caught:
        lookup({})
    assert caught.value is raised
    assert requests(runtime, "lookup", "error") == 1
    assert requests(runtime, "lookup", "success") == 0
    assert metric_value(runtime, "agent_errors_total", {"error_type": "KeyError"}) == 1


def test_max_concurrency_queues_async_calls(runtime: AgentRuntime) -> None:
    """With max_concurrency=2, a third concurrent call waits and shows in agent_queue_depth."""
    running = 0
    peak = 0
    release = asyncio.Event()

    @runtime.capability(max_concurrency=2)
    async def limited(payload: None) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    async def scenario() -> tuple[float | None, float | None]:
        calls = [asyncio.create_task(limited(None)) for _ in range(3)]
        await asyncio.sleep(0.05)
        depth = metric_value(runtime, "agent_queue_depth")
        inflight = metric_value(runtime, "agent_inflight_requests")
        release.set()
        await asyncio.gather(*calls)
        return depth, inflight

    depth, inflight = asyncio.run(scenario())
    assert (depth, inflight, peak) == (1, 3, 2)
    assert metric_value(runtime, "agent_queue_depth") == 0
    assert metric_value(runtime, "agent_inflight_requests") == 0
    assert requests(runtime, "limited", "success") == 3


def test_max_concurrency_limits_sync_calls_across_threads(runtime: AgentRuntime) -> None:
    """Sync calls from several threads never run more than max_concurrency at once."""
    gate = threading.Event()
    lock = threading.Lock()
    running = 0
    peak = 0

    @runtime.capability(max_concurrency=1)
    def exclusive(payload: None) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        gate.wait(5)
        with lock:
            running -= 1

    threads = [threading.Thread(target=exclusive, args=(None,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline_checks = 0
    while metric_value(runtime, "agent_queue_depth") != 2 and deadline_checks < 500:
        threading.Event().wait(0.01)
        deadline_checks += 1
    assert metric_value(runtime, "agent_queue_depth") == 2
    gate.set()
    for thread in threads:
        thread.join()
    assert peak == 1
    assert requests(runtime, "exclusive", "success") == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_max_concurrency_is_refused(runtime: AgentRuntime, bad: Any) -> None:
    """max_concurrency must be a whole number >= 1; the error names the capability."""

    def f(payload: object) -> object:
        return payload

    with pytest.raises(CapabilityError, match=r"max_concurrency=.* is invalid for capability 'f'"):
        runtime.capability(max_concurrency=bad)(f)
    assert runtime.capabilities == {}
    assert (
        metric_value(runtime, "agent_requests_total", {"capability": "f", "status": "success"})
        is None
    )


def test_duplicate_and_invalid_names_are_refused(runtime: AgentRuntime) -> None:
    """A second capability of the same name, or a name unfit for a URL, is an error."""
    noop: Callable[[object], object] = lambda p: p  # noqa: E731

    runtime.capability("same")(noop)
    with pytest.raises(CapabilityError, match="'same' is already declared"):
        runtime.capability("same")(noop)
    with pytest.raises(CapabilityError, match="name 'has space' is invalid"):
        runtime.capability("has space")(noop)


def test_limit_holds_across_threads_and_event_loops(runtime: AgentRuntime) -> None:
    """max_concurrency=1 holds for async calls made from several threads' event loops at once."""
    lock = threading.Lock()
    running = 0
    peak = 0

    @runtime.capability(max_concurrency=1)
    async def one_at_a_time(payload: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        await asyncio.sleep(0.02)
        with lock:
            running -= 1
        return payload

    async def contend() -> list[int]:
        return list(await asyncio.gather(*(one_at_a_time(i) for i in range(3))))

    results: list[list[int]] = []
    threads = [
        threading.Thread(target=lambda: results.append(asyncio.run(contend()))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [[0, 1, 2]] * 3
    assert peak == 1
    assert requests(runtime, "one_at_a_time", "success") == 9
    assert metric_value(runtime, "agent_queue_depth") == 0


def test_cancelled_waiter_gives_its_place_up(runtime: AgentRuntime) -> None:
    """A call cancelled while waiting for a slot neither runs nor keeps the slot from others."""
    ran: list[str] = []
    gate = asyncio.Event()

    @runtime.capability(max_concurrency=1)
    async def single(payload: str) -> None:
        ran.append(payload)
        if payload == "first":
            await gate.wait()

    async def scenario() -> None:
        first = asyncio.create_task(single("first"))
        await asyncio.sleep(0)
        doomed = asyncio.create_task(single("doomed"))
        third = asyncio.create_task(single("third"))
        await asyncio.sleep(0.01)
        doomed.cancel()
        gate.set()
        await asyncio.gather(first, third)
        with pytest.raises(asyncio.CancelledError):
            await doomed

    asyncio.run(scenario())
    assert ran == ["first", "third"]
    assert requests(runtime, "single", "error") == 1  # the cancelled one
    assert metric_value(runtime, "agent_queue_depth") == 0
    assert metric_value(runtime, "agent_inflight_requests") == 0


def test_invalid_input_reraises_and_counts_as_client_error(runtime: AgentRuntime) -> None:
    """A direct call raising InvalidInput gets it unchanged; counted client_error, not an error."""
    raised = InvalidInput("mass_kg must be positive", [{"loc": ["mass_kg"]}])

    @runtime.capability
    def check(payload: dict[str, float]) -> None:
        raise raised

    with pytest.raises(InvalidInput) as caught:
        check({"mass_kg": -1})
    assert caught.value is raised
    assert (caught.value.message, caught.value.details) == (
        "mass_kg must be positive",
        [{"loc": ["mass_kg"]}],
    )
    assert requests(runtime, "check", "client_error") == 1
    assert requests(runtime, "check", "error") == 0
    assert requests(runtime, "check", "success") == 0
    assert metric_value(runtime, "agent_errors_total", {"error_type": "InvalidInput"}) is None
    # Still a timed call: the histogram and the quantiles see it.
    labels = {"capability": "check"}
    assert metric_value(runtime, "agent_request_duration_seconds_count", labels) == 1


class _Observer:
    """Writes down every begin and end it is told of."""

    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def begin(self, capability: str, payload: Any) -> object:
        self.events.append(("begin", capability, payload))
        _current.set(capability)
        return len(self.events)

    def end(self, token: object, outcome: Outcome, error: BaseException | None) -> None:
        self.events.append(("end", token, outcome, type(error).__name__ if error else None))


class _FailsAtBegin:
    """An observer that fails as a call begins (so it is not told of the end)."""

    def begin(self, capability: str, payload: Any) -> object:
        raise RuntimeError("observer bug")

    def end(self, token: object, outcome: Outcome, error: BaseException | None) -> None:
        raise AssertionError("never called: its begin failed")


class _FailsAtEnd:
    """An observer that fails as a call ends."""

    def begin(self, capability: str, payload: Any) -> object:
        return None

    def end(self, token: object, outcome: Outcome, error: BaseException | None) -> None:
        raise RuntimeError("observer bug")


_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("current", default=None)


def test_observers_see_every_call_once_whatever_the_path(runtime: AgentRuntime) -> None:
    """Direct sync, direct async and HTTP calls each give one begin and one end, with outcomes."""
    observer = _Observer()
    runtime.call_observers.append(observer)
    seen_in_function: list[str | None] = []

    @runtime.capability
    def double(payload: int) -> int:
        seen_in_function.append(_current.get())
        if payload < 0:
            raise InvalidInput("negative")
        return payload * 2

    @runtime.capability
    async def lookup(payload: str) -> str:
        raise KeyError(payload)

    assert double(2) == 4
    with pytest.raises(InvalidInput):
        double(-1)
    with pytest.raises(KeyError):
        asyncio.run(lookup("steel"))
    with RuntimeClient(runtime) as client:  # a sync function over HTTP runs in a worker thread
        assert client.post("/v1/capabilities/double", json=5).json() == 10
    assert observer.events == [
        ("begin", "double", 2),
        ("end", 1, "success", None),
        ("begin", "double", -1),
        ("end", 3, "client_error", "InvalidInput"),
        ("begin", "lookup", "steel"),
        ("end", 5, "error", "KeyError"),
        ("begin", "double", 5),
        ("end", 7, "success", None),
    ]
    # What begin set in the caller's context is seen by the function, in its thread too.
    assert seen_in_function == ["double", "double", "double"]


def test_a_failing_observer_changes_nothing_the_caller_sees(
    runtime: AgentRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    """An observer that raises is logged and skipped; results and metrics stay as they were."""
    runtime.call_observers.extend([_FailsAtBegin(), _FailsAtEnd()])

    @runtime.capability
    def triple(payload: int) -> int:
        return payload * 3

    assert triple(3) == 9
    with RuntimeClient(runtime) as client:
        assert client.post("/v1/capabilities/triple", json=4).json() == 12
    assert requests(runtime, "triple", "success") == 2
    failures = [r.getMessage() for r in caplog.records if "call observer" in r.getMessage()]
    assert len(failures) == 4  # 2 calls x (one begin + one end)
