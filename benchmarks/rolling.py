"""A rolling restart on one machine: replicas, a kubelet-like poller, endpoints, steady load.

What a Deployment's rolling update does, played out with real processes:
a new replica starts, the poller sees it ready and (after the propagation
delay) the load balancer routes to it; then an old replica gets SIGTERM,
the poller sees its readiness fail and (after the delay again) traffic stops
going there. The load generator sends every request on a new connection
to a replica it last saw in the endpoints, as kube-proxy does, and counts
every request that does not come back 200.
"""

from __future__ import annotations

import http.client
import itertools
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

__all__ = ["Outcome", "Replica", "rolling_restart", "start_process"]

# How often the kubelet asks, and how long the endpoint change takes to reach
# the load balancer (kube-proxy, an ingress): both much shorter than in a
# cluster, so a restart plays out in seconds; the pre-stop delay must exceed their sum.
POLL_SECONDS = 0.1
PROPAGATION_SECONDS = 0.4


@dataclass
class Replica:
    """A server process on ``port`` whose readiness is ``GET ready_path``."""

    process: subprocess.Popen[bytes]
    port: int
    ready_path: str
    log_file: IO[bytes] = field(repr=False)

    def log(self) -> str:
        self.log_file.seek(0)
        return self.log_file.read().decode(errors="replace")


def start_process(
    command: list[str], env: dict[str, str], cwd: str
) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Start ``command`` with its standard error kept in a temporary file."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the replica owns it
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
    return process, log


def _get(port: int, path: str, timeout: float = 1.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _post(port: int, path: str, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers={"content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@dataclass
class Outcome:
    """What the load saw through the restart."""

    sent: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)


class _Endpoints:
    """The kubelet's view of readiness and, ``PROPAGATION_SECONDS`` later, the balancer's."""

    def __init__(self) -> None:
        self.replicas: list[Replica] = []
        self.routable: list[Replica] = []
        self._seen_ready: dict[int, bool] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def wait_routable(self, replica: Replica, routable: bool, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while (replica in self.routable) != routable:
            if time.monotonic() > deadline:
                raise AssertionError(f"replica on {replica.port} never became routable={routable}")
            time.sleep(0.02)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            for replica in list(self.replicas):
                try:
                    ready = _get(replica.port, replica.ready_path) == 200
                except OSError:
                    ready = False
                if self._seen_ready.get(replica.port) != ready:
                    self._seen_ready[replica.port] = ready
                    timer = threading.Timer(PROPAGATION_SECONDS, self._route, (replica, ready))
                    timer.daemon = True
                    timer.start()

    def _route(self, replica: Replica, ready: bool) -> None:
        with self._lock:
            if ready and replica not in self.routable:
                self.routable = [*self.routable, replica]
            elif not ready and replica in self.routable:
                self.routable = [r for r in self.routable if r is not replica]


def rolling_restart(
    start: Callable[[], Replica],
    *,
    path: str,
    body: bytes,
    replicas: int = 2,
    clients: int = 4,
    interval: float = 0.05,
) -> Outcome:
    """Replace ``replicas`` replicas one by one under steady load; count what failed.

    Args:
        start: starts one replica (a new process on a new port).
        path: the request every client sends, with ``body``.
        clients: load threads, each sending one request every ``interval`` s.
    """
    outcome = Outcome()
    endpoints = _Endpoints()
    endpoints.replicas = [start() for _ in range(replicas)]
    endpoints.start()
    for replica in endpoints.replicas:
        endpoints.wait_routable(replica, True)
    stop_load = threading.Event()
    lock = threading.Lock()
    turn = itertools.count()

    def load() -> None:
        while not stop_load.is_set():
            routable = endpoints.routable
            if routable:
                replica = routable[next(turn) % len(routable)]
                try:
                    status = _post(replica.port, path, body)
                    problem = None if status == 200 else f"HTTP {status}"
                except OSError as error:
                    problem = f"{type(error).__name__} on port {replica.port}"
                with lock:
                    outcome.sent += 1
                    if problem is not None:
                        outcome.failed += 1
                        outcome.failures.append(problem)
            time.sleep(interval)

    threads = [threading.Thread(target=load, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        for old in list(endpoints.replicas):
            new = start()
            endpoints.replicas.append(new)
            endpoints.wait_routable(new, True)
            old.process.send_signal(signal.SIGTERM)
            outcome.exit_codes.append(old.process.wait(60))
            endpoints.replicas.remove(old)
            outcome.logs.append(old.log())
            old.log_file.close()
        time.sleep(1.0)
    finally:
        stop_load.set()
        for thread in threads:
            thread.join()
        endpoints.stop()
        for replica in endpoints.replicas:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGTERM)
            outcome.exit_codes.append(replica.process.wait(60))
            outcome.logs.append(replica.log())
            replica.log_file.close()
    return outcome
