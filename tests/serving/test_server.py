"""The real server: a `greenlang-runtime run` child process spoken to over loopback."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import ServedAgent

pytestmark = pytest.mark.integration

AGENT = """
    import asyncio, logging, time
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime(
        agent_id="gl-cbam-calculator-v2", version="2.3.1", tenant_id="customer-abc-123"
    )
    log = logging.getLogger("agent")

    @runtime.capability
    async def calculate(payload):
        await asyncio.sleep(payload.get("sleep", 0))
        return {"kg_co2e": payload["mass_kg"] * 1.85}

    @runtime.capability("sync-sleep")
    def sync_sleep(payload):
        time.sleep(payload)
        return "slept"

    @runtime.capability
    def fail(payload):
        raise ValueError("no factor")

    @runtime.on_shutdown
    def goodbye():
        log.warning("on_shutdown hook ran")
"""

IDENTITY = {
    "agent_id": "gl-cbam-calculator-v2",
    "version": "2.3.1",
    "tenant_id": "customer-abc-123",
}


def scrape(agent: ServedAgent) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, parsed by prometheus_client's own parser."""
    text = httpx2.get(agent.metrics_url, timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples[(name, tuple(sorted({**IDENTITY, **labels}.items())))]


@pytest.fixture
def agent(serve_agent: Callable[..., ServedAgent]) -> ServedAgent:
    served = serve_agent(AGENT, {"GL_PRESTOP_DELAY_SECONDS": "0"})
    served.wait_until("/health/ready")
    return served


def test_served_agent_answers_probes_calls_and_metrics(agent: ServedAgent) -> None:
    """Over real HTTP: probes, calls, errors, and the whole standard metric set on :metrics."""
    assert httpx2.get(agent.url + "/health/startup").status_code == 200
    head = httpx2.head(agent.url + "/health/live")
    assert (head.status_code, head.content) == (200, b"")
    for mass in (1000, 2000):
        response = httpx2.post(agent.url + "/v1/capabilities/calculate", json={"mass_kg": mass})
        assert response.json() == {"kg_co2e": mass * 1.85}
    assert httpx2.post(agent.url + "/v1/capabilities/fail", json={}).status_code == 500
    assert httpx2.post(agent.url + "/v1/capabilities/sync-sleep", json=0.2).json() == "slept"

    samples = scrape(agent)
    assert sample(samples, "agent_requests_total", capability="calculate", status="success") == 2
    assert sample(samples, "agent_requests_total", capability="fail", status="error") == 1
    assert sample(samples, "agent_errors_total", error_type="ValueError") == 1
    assert sample(samples, "agent_request_duration_seconds_count", capability="sync-sleep") == 1
    assert (
        sample(samples, "agent_request_duration_seconds_bucket", capability="sync-sleep", le="0.1")
        == 0
    )
    assert (
        sample(samples, "agent_request_duration_seconds_bucket", capability="sync-sleep", le="0.5")
        == 1
    )
    assert (
        sample(samples, "agent_request_duration_seconds_bucket", capability="calculate", le="+Inf")
        == 2
    )
    # Four calls: three near 0 s, one of at least 0.2 s. By nearest rank p50 is
    # the 2nd (a fast one), p95 and p99 the 4th: the sleeper, to within 1%.
    assert sample(samples, "agent_latency_p50_seconds") < 0.05
    assert 0.198 <= sample(samples, "agent_latency_p95_seconds") < 1
    assert sample(samples, "agent_latency_p99_seconds") == sample(
        samples, "agent_latency_p95_seconds"
    )
    assert 10 * 2**20 < sample(samples, "agent_memory_usage_bytes") < 2**30
    assert sample(samples, "agent_inflight_requests") == 0
    assert sample(samples, "agent_queue_depth") == 0
    assert sample(samples, "agent_info", lifecycle_state="active") == 1
    # The metrics listener serves nothing else, and the app listener no metrics.
    assert httpx2.get(agent.metrics_url.replace("/metrics", "/health/live")).status_code == 404
    assert httpx2.get(agent.url + "/metrics").status_code == 404


SPINNER = """
    import time
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime(
        agent_id="gl-cbam-calculator-v2", version="2.3.1", tenant_id="customer-abc-123"
    )

    @runtime.capability
    def spin(payload):
        # Busy until the process has used `payload` seconds of CPU.
        started = time.process_time()
        while time.process_time() - started < payload:
            pass
        return "spun"
"""


def test_cpu_usage_is_the_share_of_a_core_used_since_the_previous_scrape(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """Half a CPU second between two scrapes shows as 50 s of CPU per 100 s of wall time."""
    agent = serve_agent(SPINNER, {"GL_PRESTOP_DELAY_SECONDS": "0"})
    agent.wait_until("/health/ready")
    scrape(agent)
    time.sleep(1.1)  # readings under 1 s apart repeat the last one
    before = time.monotonic()
    scrape(agent)  # the reading the next one is measured from
    after_previous = time.monotonic()
    assert httpx2.post(agent.url + "/v1/capabilities/spin", json=0.5).json() == "spun"
    time.sleep(max(0.0, after_previous + 1.1 - time.monotonic()))
    percent = sample(scrape(agent), "agent_cpu_usage_percent")
    elapsed = time.monotonic() - before
    # At least 0.5 CPU seconds within at most `elapsed` wall seconds.
    assert 100 * 0.5 / elapsed <= percent


def test_oversized_chunked_body_is_refused_and_serving_goes_on(agent: ServedAgent) -> None:
    """A chunked body past the limit is 413 over real HTTP; the next request is served."""

    def body() -> Iterator[bytes]:
        yield b'"'
        for _ in range(11):
            yield b"x" * 2**20
        yield b'"'

    url = agent.url + "/v1/capabilities/calculate"
    response = httpx2.post(url, content=body(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert httpx2.post(url, json={"mass_kg": 1}).status_code == 200


def test_invalid_setting_fails_at_start_naming_the_variable(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """A bad GL_* value stops the start with one line naming it, and no traceback."""
    agent = serve_agent(AGENT, {"GL_DRAIN_TIMEOUT_SECONDS": "soon"}, wait=False)
    status, err = agent.exited()
    assert status == 2
    assert "GL_DRAIN_TIMEOUT_SECONDS='soon' is invalid: it must be a number of seconds." in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("abc", "no address is known by that host name to listen on"),
        ("1" * 300, "it must be an IP address (0.0.0.0, ::) or a host name"),
        ("a b", "it must be an IP address (0.0.0.0, ::) or a host name"),
    ],
)
def test_bad_host_fails_at_start_naming_the_variable(
    serve_agent: Callable[..., ServedAgent], host: str, reason: str
) -> None:
    """A host that cannot be listened on: one line naming GL_HTTP_HOST and the value, exit 2."""
    agent = serve_agent(AGENT, {"GL_HTTP_HOST": host}, wait=False)
    status, err = agent.exited()
    assert status == 2
    assert err.startswith(f"Error: GL_HTTP_HOST={host!r} is invalid: {reason}")
    assert err.count("\n") == 1


def test_unknown_variable_is_warned_about_in_the_log_format(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """With JSON logs, the misspelt-variable warning is a JSON line naming the closest setting."""
    agent = serve_agent(AGENT, {"GL_HTTP_PROT": "8080", "GL_LOG_FORMAT": "json"})
    status, err = agent.stop()
    assert status == 0
    lines = [json.loads(line) for line in err.splitlines()]
    warnings = [line for line in lines if "GL_HTTP_PROT" in line["message"]]
    assert [(w["level"], w["message"]) for w in warnings] == [
        (
            "WARNING",
            "GL_HTTP_PROT is set but is not a setting of greenlang-runtime; ignored "
            "(did you mean GL_HTTP_PORT?)",
        )
    ]


def test_sigterm_during_startup_skips_the_prestop_delay(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """A pod whose startup never finished was never ready: SIGTERM exits promptly, 0."""
    agent = serve_agent(
        """
        import asyncio
        from greenlang_runtime import AgentRuntime
        runtime = AgentRuntime()

        @runtime.on_startup
        async def load_model():
            await asyncio.sleep(60)
        """,
        {"GL_PRESTOP_DELAY_SECONDS": "30"},
    )
    agent.wait_until("/health/startup", status=503)
    started = time.monotonic()
    status, err = agent.stop()
    took = time.monotonic() - started
    assert status == 0, err
    # Far below the 30 s pre-stop delay: the drain has nothing to wait for.
    assert took < 10, err


def wait_for_inflight(agent: ServedAgent, count: int, timeout: float = 20.0) -> None:
    """Poll /metrics until `count` calls are in flight (a bound on a hang, not a timing)."""
    deadline = time.monotonic() + timeout
    while sample(scrape(agent), "agent_inflight_requests") != count:
        assert time.monotonic() < deadline, f"never {count} call(s) in flight"
        time.sleep(0.02)


def test_sigterm_drains_in_flight_requests_and_exits_zero(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """On SIGTERM: ready turns 503, requests are served through the pre-stop delay,
    the in-flight call finishes, the hook runs and the exit status is 0."""
    agent = serve_agent(AGENT, {"GL_PRESTOP_DELAY_SECONDS": "3", "GL_DRAIN_TIMEOUT_SECONDS": "20"})
    agent.wait_until("/health/ready")
    url = agent.url + "/v1/capabilities/calculate"
    with ThreadPoolExecutor() as pool:
        slow = pool.submit(httpx2.post, url, json={"mass_kg": 1, "sleep": 5}, timeout=60)
        wait_for_inflight(agent, 1)
        agent.process.send_signal(signal.SIGTERM)
        agent.wait_until("/health/ready", status=503, timeout=5)
        # Still serving during the pre-stop delay, and asking clients to reconnect.
        during = httpx2.post(url, json={"mass_kg": 2})
        assert during.status_code == 200
        assert during.headers["connection"] == "close"
        assert httpx2.get(agent.url + "/health/live").status_code == 200
        # The slow call outlives the pre-stop delay, and still completes.
        assert slow.result().status_code == 200
        assert slow.result().json() == {"kg_co2e": 1.85}
    status, err = agent.exited()
    assert status == 0, err
    assert "on_shutdown hook ran" in err


def test_calls_past_the_drain_deadline_get_503(serve_agent: Callable[..., ServedAgent]) -> None:
    """A call still running at the drain deadline is answered 503, then the agent exits 0."""
    agent = serve_agent(AGENT, {"GL_PRESTOP_DELAY_SECONDS": "0", "GL_DRAIN_TIMEOUT_SECONDS": "0.5"})
    agent.wait_until("/health/ready")
    url = agent.url + "/v1/capabilities/calculate"
    with ThreadPoolExecutor() as pool:
        stuck = pool.submit(httpx2.post, url, json={"mass_kg": 1, "sleep": 60}, timeout=30)
        wait_for_inflight(agent, 1)
        started = time.monotonic()
        status, err = agent.stop()
        assert status == 0, err
        assert time.monotonic() - started < 15  # a bound on a hang, far above 0.5 s
        assert stuck.result().status_code == 503
        assert stuck.result().json()["error"]["type"] == "shutting_down"


def test_abandoned_sync_call_does_not_hold_the_exit(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """A sync call still running at the drain deadline is answered 503 and the process
    exits 0 at once, without waiting for the worker thread to finish."""
    agent = serve_agent(AGENT, {"GL_PRESTOP_DELAY_SECONDS": "0", "GL_DRAIN_TIMEOUT_SECONDS": "0.5"})
    agent.wait_until("/health/ready")
    url = agent.url + "/v1/capabilities/sync-sleep"
    with ThreadPoolExecutor() as pool:
        stuck = pool.submit(httpx2.post, url, json=60, timeout=90)
        wait_for_inflight(agent, 1)
        began = time.monotonic()
        status, err = agent.stop(timeout=60)
        took = time.monotonic() - began
        assert stuck.result().status_code == 503
    assert status == 0, err
    assert took < 20  # a bound on the hang (60 s), far above the 0.5 s drain
    assert "still running abandoned work" in err


def test_second_signal_exits_at_once(serve_agent: Callable[..., ServedAgent]) -> None:
    """A second SIGTERM during the pre-stop delay ends the process without waiting."""
    agent = serve_agent(AGENT, {"GL_PRESTOP_DELAY_SECONDS": "60"})
    agent.process.send_signal(signal.SIGTERM)
    agent.wait_until("/health/ready", status=503, timeout=10)
    agent.process.send_signal(signal.SIGTERM)
    status, _ = agent.exited(timeout=10)
    assert status == 128 + signal.SIGTERM


def test_failing_startup_hook_exits_non_zero(serve_agent: Callable[..., ServedAgent]) -> None:
    """An on_startup hook that raises makes the agent exit 3 (so the pod restarts)."""
    agent = serve_agent(
        """
        from greenlang_runtime import AgentRuntime
        runtime = AgentRuntime()

        @runtime.on_startup
        async def load_model():
            raise FileNotFoundError("model.bin")
        """,
        wait=False,
    )
    status, err = agent.exited()
    assert status == 3
    assert "on_startup hook load_model failed" in err


def test_port_in_use_exits_non_zero(
    agent: ServedAgent, serve_agent: Callable[..., ServedAgent]
) -> None:
    """A second agent on a taken port exits non-zero instead of serving half."""
    clash = serve_agent(AGENT, {"GL_HTTP_PORT": str(agent.port)}, wait=False)
    status, err = clash.exited()
    assert status != 0
    assert "address already in use" in err
    assert httpx2.get(agent.url + "/health/live").status_code == 200
