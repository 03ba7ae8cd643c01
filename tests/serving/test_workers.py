"""GL_WORKERS: a supervisor and real worker processes, every figure checked against the client's."""

from __future__ import annotations

import itertools
import math
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from greenlang_runtime.testing import PostgresServer
from tests.helpers import ServedAgent

pytestmark = pytest.mark.integration

AGENT = """
    import asyncio, os
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime()

    @runtime.capability
    async def work(payload):
        await asyncio.sleep(payload["ms"] / 1000)
        return {"pid": os.getpid()}
"""
WORKERS = {"GL_WORKERS": "2", "GL_PRESTOP_DELAY_SECONDS": "1", "GL_LOG_FORMAT": "text"}
LABELS = ("capability", "status", "le")


def scrape(agent: ServedAgent) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the agent's exposition, by name and the labels that matter here."""
    samples = {}
    for family in text_string_to_metric_families(httpx2.get(agent.metrics_url, timeout=10).text):
        for sample in family.samples:
            labels = tuple((k, v) for k, v in sorted(sample.labels.items()) if k in LABELS)
            samples[sample.name, labels] = sample.value
    return samples


def successes(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    return samples["agent_requests_total", (("capability", "work"), ("status", "success"))]


def call(agent: ServedAgent, ms: float, client: httpx2.Client | None = None) -> tuple[int, float]:
    """One call (on a new connection without ``client``): the pid that served it, and seconds."""
    post = httpx2.post if client is None else client.post
    started = time.perf_counter()
    response = post(agent.url + "/v1/capabilities/work", json={"ms": ms}, timeout=30)
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text
    pid: int = response.json()["pid"]
    return pid, seconds


def workers_of(agent: ServedAgent) -> set[int]:
    """The supervisor's child processes."""
    pid = agent.process.pid
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``condition`` until true (a bound on a hang, not a timing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)), 1) - 1]


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_worker_counts_fail_the_start_naming_gl_workers(
    serve_agent: Callable[..., ServedAgent], value: str
) -> None:
    """0, negative or non-numeric GL_WORKERS: one line naming it, exit 2, no traceback."""
    agent = serve_agent(AGENT, {"GL_WORKERS": value}, wait=False)
    status, err = agent.exited()
    assert status == 2
    assert f"GL_WORKERS={value!r} is invalid: it must be a whole number of at least 1, or auto" in (
        err
    )
    assert "Traceback" not in err


def test_two_workers_count_every_request_and_merge_the_percentiles(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """400 calls over 2 workers: the count and histogram exact, p99 the client's within noise."""
    agent = serve_agent(AGENT, WORKERS)
    agent.wait_until("/health/ready")
    rng = random.Random(19)
    # Mostly 2 ms, one call in 20 at 80 ms: the p99 is a slow call.
    delays = [80.0 if rng.random() < 0.05 else 2.0 for _ in range(400)]
    local = threading.local()
    opened: list[httpx2.Client] = []

    def timed(ms: float) -> tuple[int, float]:
        # One kept-alive connection per thread: the client's time is the server's
        # plus a loopback round trip, not a connection set up per call.
        if not hasattr(local, "client"):
            local.client = httpx2.Client()
            opened.append(local.client)
        return call(agent, ms, local.client)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(timed, delays))
    for client in opened:
        client.close()
    samples = scrape(agent)
    assert {pid for pid, _ in results} == workers_of(agent)  # both served
    assert successes(samples) == 400
    histogram = (("capability", "work"),)
    assert samples["agent_request_duration_seconds_count", histogram] == 400
    assert samples["agent_request_duration_seconds_bucket", (*histogram, ("le", "+Inf"))] == 400
    client_p99 = nearest_rank([seconds for _, seconds in results], 0.99)
    server_p99 = samples["agent_latency_p99_seconds", ()]
    # The server's p99 is within 1% of its own durations' p99, which the client's
    # exceeds by the loopback round trip (generous noise on a loaded machine).
    assert server_p99 <= client_p99 * 1.01
    assert server_p99 >= 0.080 * 0.99
    assert client_p99 - server_p99 < 0.100
    status, err = agent.stop()
    assert status == 0, err


def test_in_flight_is_the_sum_over_workers(serve_agent: Callable[..., ServedAgent]) -> None:
    """Calls held open on either worker all show in agent_inflight_requests, then none."""
    agent = serve_agent(AGENT, WORKERS)
    agent.wait_until("/health/ready")
    with ThreadPoolExecutor(6) as pool:
        held = []
        for _ in range(6):
            held.append(pool.submit(call, agent, 3000))
            time.sleep(0.05)
        wait_for(lambda: scrape(agent)["agent_inflight_requests", ()] == 6)
        pids = {future.result()[0] for future in held}
    assert pids <= workers_of(agent)
    assert scrape(agent)["agent_inflight_requests", ()] == 0
    status, err = agent.stop()
    assert status == 0, err


def test_a_killed_worker_is_replaced_and_no_counter_goes_down(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """SIGKILL one worker under load: replaced; counts never fall; only its calls fail."""
    agent = serve_agent(AGENT, WORKERS)
    agent.wait_until("/health/ready")
    stop = threading.Event()
    lock = threading.Lock()
    done: list[float] = []  # when each successful call ended
    failed = []

    def load() -> None:
        while not stop.is_set():
            try:
                call(agent, 20)
                with lock:
                    done.append(time.monotonic())
            except (httpx2.TransportError, AssertionError) as error:
                with lock:
                    failed.append(error)

    seen: list[float] = []

    def watch() -> None:
        while not stop.is_set():
            seen.append(successes(scrape(agent)))
            time.sleep(0.1)

    clients = [threading.Thread(target=load) for _ in range(4)]
    watcher = threading.Thread(target=watch)
    for thread in [*clients, watcher]:
        thread.start()
    try:
        time.sleep(1.5)
        before = workers_of(agent)
        victim = min(before)
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(workers_of(agent) - {victim}) == 2)
        agent.wait_until("/health/ready")
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in [*clients, watcher]:
            thread.join()
    final = successes(scrape(agent))
    assert all(a <= b for a, b in itertools.pairwise(seen)), seen
    # Each client had at most one call at the killed worker.
    assert len(failed) <= 4, failed
    # The counts lost with the worker are at most those of its last poll
    # interval (0.5 s) before the kill, and nothing else.
    recent = sum(1 for at in done if killed_at - 1.5 <= at <= killed_at)
    assert len(done) - recent <= final <= len(done)
    status, err = agent.stop()
    assert status == 0, err
    assert f"(pid {victim}) exited with -9" in err


def test_sigterm_drains_every_worker_and_exits_0(serve_agent: Callable[..., ServedAgent]) -> None:
    """SIGTERM: readiness 503 at once, calls in flight on both workers complete, exit 0."""
    agent = serve_agent(AGENT, WORKERS)
    agent.wait_until("/health/ready")
    with ThreadPoolExecutor(6) as pool:
        held = []
        for _ in range(6):
            held.append(pool.submit(call, agent, 2000))
            time.sleep(0.05)
        wait_for(lambda: scrape(agent)["agent_inflight_requests", ()] == 6)
        agent.process.send_signal(signal.SIGTERM)
        # During the pre-stop delay: still served, but not ready.
        assert httpx2.get(agent.url + "/health/ready", timeout=5).status_code == 503
        assert call(agent, 1)[0] in workers_of(agent)
        assert all(future.result()[0] > 0 for future in held)
    status, err = agent.exited()
    assert status == 0, err
    assert err.count("in flight at close completed, 0 cut off") == 2


def test_a_drained_workers_last_calls_stay_counted(serve_agent: Callable[..., ServedAgent]) -> None:
    """Calls that end during a worker's drain, just before it exits, stay in the totals."""
    agent = serve_agent(AGENT, {**WORKERS, "GL_PRESTOP_DELAY_SECONDS": "0"})
    agent.wait_until("/health/ready")
    with ThreadPoolExecutor(12) as pool:
        long_call = pool.submit(call, agent, 15_000)
        wait_for(lambda: scrape(agent)["agent_inflight_requests", ()] == 1)
        ending = []
        for _ in range(10):
            ending.append(pool.submit(call, agent, 1500))
            time.sleep(0.02)
        wait_for(lambda: scrape(agent)["agent_inflight_requests", ()] == 11)
        # They end during the drain; a worker without the long call exits right after.
        agent.process.send_signal(signal.SIGTERM)
        assert all(future.result()[0] > 0 for future in ending)
        wait_for(lambda: len(workers_of(agent)) == 1)
        assert not long_call.done()
        assert successes(scrape(agent)) == 10
        assert long_call.result()[0] > 0
    status, err = agent.exited()
    assert status == 0, err


STALLING = """
    import os, time
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime()

    @runtime.capability
    async def stall(payload):
        time.sleep(payload["seconds"])  # blocks this worker's event loop
        return {"pid": os.getpid()}

    @runtime.capability
    async def crash(payload):
        os._exit(1)
"""


def live(agent: ServedAgent) -> tuple[int, str]:
    response = httpx2.get(agent.url + "/health/live", timeout=5)
    return response.status_code, response.text


def test_a_stalled_worker_fails_liveness_for_the_pod(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """One worker's loop blocked past GL_LOOP_STALL_SECONDS: the other answers liveness 503."""
    agent = serve_agent(STALLING, {**WORKERS, "GL_LOOP_STALL_SECONDS": "1"})
    agent.wait_until("/health/ready")
    assert live(agent)[0] == 200
    with ThreadPoolExecutor(1) as pool:
        stalled = pool.submit(
            httpx2.post, agent.url + "/v1/capabilities/stall", json={"seconds": 6}, timeout=30
        )
        wait_for(lambda: live(agent)[0] == 503, timeout=5)
        assert "has not answered for" in live(agent)[1]
        assert stalled.result().status_code == 200
    wait_for(lambda: live(agent)[0] == 200, timeout=10)
    status, err = agent.stop()
    assert status == 0, err


def test_workers_that_keep_crashing_fail_liveness(serve_agent: Callable[..., ServedAgent]) -> None:
    """5 worker exits within a minute: liveness 503 naming them, so the kubelet restarts the pod."""
    agent = serve_agent(STALLING, WORKERS)
    agent.wait_until("/health/ready")
    for _ in range(5):
        with pytest.raises(httpx2.TransportError):
            httpx2.post(agent.url + "/v1/capabilities/crash", json={}, timeout=10)
        agent.wait_until("/health/ready", timeout=30)  # replaced
    wait_for(lambda: live(agent)[0] == 503, timeout=5)
    assert "5 workers exited in the last 60 s" in live(agent)[1]
    status, err = agent.stop()
    assert status == 0, err
    assert err.count("exited with 1") == 5


def test_dependency_checks_run_once_in_the_supervisor(
    serve_agent: Callable[..., ServedAgent], postgres: PostgresServer
) -> None:
    """Workers answer readiness from the supervisor's checks: up, then down as PostgreSQL stops."""
    fast = {"GL_CHECK_INTERVAL_SECONDS": "0.5", "GL_CHECK_FAILURE_THRESHOLD": "1"}
    agent = serve_agent(AGENT, {**WORKERS, **fast, "DATABASE_URL": postgres.url})
    agent.wait_until("/health/ready")
    body = httpx2.get(agent.url + "/health/ready", timeout=5).json()
    assert body["checks"]["postgres"]["status"] == "up"
    assert body["checks"]["workers"] == {"status": "up"}
    # One check, in the supervisor: 1, not one per worker added up.
    metrics = httpx2.get(agent.metrics_url, timeout=10).text
    up = [line for line in metrics.splitlines() if line.startswith("agent_dependency_up{")]
    assert len(up) == 1
    assert up[0].endswith(" 1.0")
    postgres.stop()
    agent.wait_until("/health/ready", status=503)
    body = httpx2.get(agent.url + "/health/ready", timeout=5).json()
    assert body["checks"]["postgres"]["status"] == "down"
    status, err = agent.stop()
    assert status == 0, err


SLOW_SECOND_WORKER = """
    import asyncio, os
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime()

    @runtime.on_startup
    async def warm_up():
        # The first worker to get here starts at once; the other takes 4 s.
        try:
            os.close(os.open("first-worker", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            await asyncio.sleep(4)
"""


def test_ready_only_once_every_worker_has_started(
    serve_agent: Callable[..., ServedAgent], tmp_path: Path
) -> None:
    """One worker started, the other still in its hooks: readiness 503 (workers pending)."""
    agent = serve_agent(SLOW_SECOND_WORKER, WORKERS)
    wait_for(lambda: (tmp_path / "first-worker").exists())
    agent.wait_until("/health/startup")  # the first worker's own startup is done
    response = httpx2.get(agent.url + "/health/ready", timeout=5)
    assert response.status_code == 503
    assert response.json()["checks"]["workers"]["status"] == "pending"
    agent.wait_until("/health/ready")
    status, err = agent.stop()
    assert status == 0, err


def _cgroup_cpu_quota() -> bool:
    """Whether this machine's cgroup sets a CPU quota (then ``auto`` follows it, not the mask)."""
    cpu_max = Path("/sys/fs/cgroup/cpu.max")
    return cpu_max.exists() and not cpu_max.read_text().startswith("max")


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2 or _cgroup_cpu_quota(),
    reason="needs 2 CPUs and no CPU quota on this machine's cgroup",
)
@pytest.mark.parametrize(("cpus", "workers"), [({0}, 1), ({0, 1}, 2)])
def test_auto_follows_the_cpus_the_process_may_run_on(
    serve_agent: Callable[..., ServedAgent], cpus: set[int], workers: int
) -> None:
    """Without a cgroup quota, GL_WORKERS=auto is the affinity mask: 1 CPU, 1 process; 2, 2."""
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)  # the served agent inherits it
    try:
        agent = serve_agent(AGENT, {**WORKERS, "GL_WORKERS": "auto"})
    finally:
        os.sched_setaffinity(0, mine)
    agent.wait_until("/health/ready")
    assert len(workers_of(agent)) == (workers if workers > 1 else 0)
    status, err = agent.stop()
    assert status == 0, err
    assert (
        f"GL_WORKERS=auto: {workers} worker(s) (CPU limit none, {len(cpus)} CPU(s) runnable)"
        in (err)
    )
