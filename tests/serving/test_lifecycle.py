"""Readiness as phase AND cached checks, in-process with custom dependency checks."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from greenlang_runtime import AgentRuntime, CheckError, Settings
from greenlang_runtime.config import SecretUrl
from greenlang_runtime.testing import RuntimeClient, metric_value

FAST = Settings(
    check_interval_seconds=0.05,
    check_timeout_seconds=0.5,
    check_failure_threshold=2,
    check_success_threshold=2,
)


def poll(client: RuntimeClient, path: str, until: Callable[[Any], bool]) -> dict[str, Any]:
    """Read probe ``path`` until ``until(response)`` holds (a bound on a hang, not a timing)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = client.get(path)
        if until(response):
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.02)
    raise AssertionError(f"{path} never reached the expected state: {response.json()}")


def test_critical_check_gates_readiness_and_recovers(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """A critical check that fails turns readiness 503 after two failures, 200 after two passes."""
    runtime = make_runtime(settings=FAST)
    healthy = threading.Event()
    healthy.set()

    @runtime.dependency("vector-store")
    def vector_store() -> None:
        if not healthy.is_set():
            raise ConnectionError("vector store refused the connection")
        time.sleep(0.03)  # a round trip of 30 ms, which the probe body reports

    with RuntimeClient(runtime) as client:
        body = poll(client, "/health/ready", lambda r: r.status_code == 200)
        assert body["status"] == "ok"
        assert body["checks"]["vector-store"]["status"] == "up"
        # At least the 30 ms the check slept; under its 500 ms timeout, or it would be down.
        assert 30 <= body["checks"]["vector-store"]["latency_ms"] < 500

        healthy.clear()
        body = poll(client, "/health/ready", lambda r: r.status_code == 503)
        assert body == {
            "status": "unavailable",
            "checks": {
                "vector-store": {
                    "status": "down",
                    "latency_ms": body["checks"]["vector-store"]["latency_ms"],
                    "error": "ConnectionError: vector store refused the connection",
                }
            },
        }
        assert client.get("/health/live").status_code == 200
        assert metric_value(runtime, "agent_dependency_up", {"dependency": "vector-store"}) == 0

        healthy.set()
        poll(client, "/health/ready", lambda r: r.status_code == 200)
        assert metric_value(runtime, "agent_dependency_up", {"dependency": "vector-store"}) == 1


def test_one_failure_does_not_flap_readiness(make_runtime: Callable[..., AgentRuntime]) -> None:
    """With the default damping, a single failed check between passes keeps the agent ready."""
    runtime = make_runtime(settings=FAST)
    results = iter([None, None, ConnectionError("blip")])
    observed: list[int] = []

    @runtime.dependency("cache", interval=0.05)
    def cache() -> None:
        error = next(results, None)
        if error is not None:
            raise error

    with RuntimeClient(runtime) as client:
        poll(client, "/health/ready", lambda r: r.status_code == 200)
        # Well past the blip: 20 more checks at 50 ms.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            observed.append(client.get("/health/ready").status_code)
            time.sleep(0.01)
    assert set(observed) == {200}


def test_non_critical_check_down_is_degraded_but_ready(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """A non-critical check down keeps readiness 200 with top-level status degraded."""
    runtime = make_runtime(settings=FAST)

    @runtime.dependency("search", critical=False)
    async def search() -> bool:
        return False

    with RuntimeClient(runtime) as client:
        body = poll(
            client,
            "/health/ready",
            lambda r: r.json()["checks"]["search"]["status"] == "down",
        )
    assert body["status"] == "degraded"
    assert body["checks"]["search"]["critical"] is False
    assert body["checks"]["search"]["error"] == "DependencyDown: search check returned False"


def test_pending_critical_check_keeps_readiness_503(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """Before its first result a critical check is pending and readiness stays 503."""
    runtime = make_runtime(settings=FAST)
    release = asyncio.Event()

    @runtime.dependency("slow", timeout=30)
    async def slow() -> None:
        await release.wait()

    @runtime.dependency("optional-slow", critical=False, timeout=30)
    async def optional_slow() -> None:
        await release.wait()

    with RuntimeClient(runtime) as client:
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["checks"] == {
            "slow": {"status": "pending"},
            "optional-slow": {"status": "pending", "critical": False},
        }
        assert client.get("/health/startup").status_code == 200
        client.portal.call(release.set)  # type: ignore[union-attr]


def test_pending_non_critical_check_alone_is_ready(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """A non-critical check still pending does not hold readiness back."""
    runtime = make_runtime(settings=FAST)
    release = asyncio.Event()

    @runtime.dependency("optional", critical=False, timeout=30)
    async def optional() -> None:
        await release.wait()

    with RuntimeClient(runtime) as client:
        response = client.get("/health/ready")
        assert (response.status_code, response.json()["status"]) == (200, "ok")
        client.portal.call(release.set)  # type: ignore[union-attr]


def test_hanging_check_times_out_and_probes_answer_at_once(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """A check that never answers is down after its timeout; probes never wait for it."""
    runtime = make_runtime(settings=FAST)
    forever = threading.Event()

    @runtime.dependency("hung", timeout=0.2, interval=0.2)
    def hung() -> None:
        forever.wait(30)

    with RuntimeClient(runtime) as client:
        body = poll(
            client,
            "/health/ready",
            lambda r: r.status_code == 503 and "error" in r.json()["checks"]["hung"],
        )
        assert body["checks"]["hung"]["error"] in (
            "no answer within 0.2 s",
            "DependencyDown: the previous hung check has not returned yet",
        )
        slowest = 0.0
        for _ in range(200):
            started = time.perf_counter()
            assert client.get("/health/live").status_code == 200
            client.get("/health/ready")
            slowest = max(slowest, time.perf_counter() - started)
        # Generous: a probe that waited on the check would take 0.2 s or more.
        assert slowest < 0.15
    forever.set()


def test_secrets_in_check_errors_are_redacted(
    make_runtime: Callable[..., AgentRuntime], caplog: pytest.LogCaptureFixture
) -> None:
    """A password in a check's exception shows as *** in the probe body and the log."""
    runtime = make_runtime(settings=FAST)

    @runtime.dependency("ledger")
    def ledger() -> None:
        raise ConnectionError(
            "cannot reach postgresql://app:hunter2@ledger:5432/db password=hunter2"
        )

    with caplog.at_level(logging.INFO, "greenlang_runtime"), RuntimeClient(runtime) as client:
        body = poll(client, "/health/ready", lambda r: "error" in r.json()["checks"]["ledger"])
    error = body["checks"]["ledger"]["error"]
    assert error == "ConnectionError: cannot reach postgresql://app:***@ledger:5432/db password=***"
    assert "hunter2" not in caplog.text
    assert (
        "dependency ledger is down: ConnectionError: cannot reach postgresql://app:***@"
        in caplog.text
    )


def test_a_configured_password_and_a_token_never_show_in_the_ready_body(
    make_runtime: Callable[..., AgentRuntime], caplog: pytest.LogCaptureFixture
) -> None:
    """DATABASE_URL's password and a Bearer token in a check's error: masked before the cut."""
    password, token = "Sup3rSecretPassw0rdThatIsLong", "sk-live-abcdefghijklmnopqrstuvwx"
    settings = dataclasses.replace(
        FAST, database_url=SecretUrl(f"postgresql://app:{password}@127.0.0.1:1/x")
    )
    runtime = make_runtime(settings=settings)

    @runtime.dependency("ledger")
    def ledger() -> None:
        # 190 characters before the password: a cut at 200 would fall inside it.
        raise ConnectionError("x" * 160 + f" login with {password} failed, Bearer {token}")

    with caplog.at_level(logging.INFO, "greenlang_runtime"), RuntimeClient(runtime) as client:
        body = poll(client, "/health/ready", lambda r: "error" in r.json()["checks"]["ledger"])
    error = body["checks"]["ledger"]["error"]
    # Masked first (34 characters from " login" on), then cut to 200 of the 211.
    assert error == (
        "ConnectionError: " + "x" * 160 + " login with *** failed,... (11 more characters)"
    )
    for secret in (password, token):
        assert secret[:8] not in caplog.text


def test_state_changes_are_logged_once_each(
    make_runtime: Callable[..., AgentRuntime], caplog: pytest.LogCaptureFixture
) -> None:
    """Going down and coming back up logs one line each, not one per check."""
    runtime = make_runtime(settings=FAST)
    healthy = threading.Event()

    @runtime.dependency("queue")
    def queue() -> None:
        if not healthy.is_set():
            raise TimeoutError

    with caplog.at_level(logging.INFO, "greenlang_runtime"), RuntimeClient(runtime) as client:
        poll(client, "/health/ready", lambda r: r.json()["checks"]["queue"]["status"] == "down")
        time.sleep(0.3)  # several more failed checks
        healthy.set()
        poll(client, "/health/ready", lambda r: r.status_code == 200)
    lines = [r.getMessage() for r in caplog.records if "dependency queue" in r.getMessage()]
    assert lines == ["dependency queue is down: no answer within 0.5 s", lines[1]]
    assert lines[1].startswith("dependency queue is up (")


def test_check_durations_are_a_histogram(make_runtime: Callable[..., AgentRuntime]) -> None:
    """Every check is observed in agent_dependency_check_duration_seconds."""
    runtime = make_runtime(settings=FAST)

    @runtime.dependency("quick")
    async def quick() -> None:
        return None

    with RuntimeClient(runtime) as client:
        poll(client, "/health/ready", lambda r: r.status_code == 200)
    labels = {"dependency": "quick"}
    count = metric_value(runtime, "agent_dependency_check_duration_seconds_count", labels)
    assert count is not None
    assert count >= 1
    fast = metric_value(
        runtime, "agent_dependency_check_duration_seconds_bucket", {**labels, "le": "0.1"}
    )
    assert fast == count  # an awaited no-op takes far less than 100 ms


def test_check_declared_twice_is_an_error(runtime: AgentRuntime) -> None:
    """Declaring two checks with one name fails at once, naming it."""

    @runtime.dependency("db")
    def first() -> None: ...

    with pytest.raises(CheckError, match="A dependency check named 'db' is already declared"):

        @runtime.dependency("db")
        def second() -> None: ...


@pytest.mark.parametrize(
    ("option", "value"),
    [("timeout", 0), ("timeout", -1), ("interval", 0), ("interval", float("nan"))],
)
def test_bad_check_bounds_are_errors(runtime: AgentRuntime, option: str, value: float) -> None:
    """A zero, negative or NaN timeout or interval fails at declaration, naming the option."""
    bounds: dict[str, Any] = {option: value}
    with pytest.raises(CheckError, match=f"Dependency check 'db': {option}={value!r} is invalid"):
        runtime.dependency("db", **bounds)(lambda: None)
