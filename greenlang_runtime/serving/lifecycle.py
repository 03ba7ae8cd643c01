"""The agent's lifecycle, owned in one place, and what each probe answers from memory."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Protocol

from greenlang_runtime.checks import CheckRunner, Report
from greenlang_runtime.serving._watchdog import LoopWatchdog

__all__ = ["Lifecycle", "Peers", "Phase", "ProbeResult"]

ProbeResult = tuple[int, dict[str, Any]]


class Peers(Protocol):
    """In a worker of ``GL_WORKERS``: the supervisor's view, which the probes answer from."""

    def report(self) -> Report:
        """Readiness as the supervisor sees it: its checks, every worker started, not draining."""

    def failing(self) -> str | None:
        """Why liveness fails for the whole pod (a stalled or crash-looping worker), if it does."""


class Phase(enum.Enum):
    """Where the agent is between start and exit."""

    STARTING = "starting"  # on_startup hooks are running
    SERVING = "serving"
    STARTUP_FAILED = "startup_failed"
    DRAINING = "draining"  # a shutdown signal arrived; readiness is 503
    STOPPING = "stopping"  # past the drain deadline: new calls get 503


class Lifecycle:
    """The one owner of the agent's phase; the probes read it, the transitions move it.

    Readiness is the phase AND the dependency checks' cached results:
    serving, and every critical check up.

    Args:
        watchdog: tells liveness whether the event loop keeps up.
        checks: the dependency checks readiness waits for.
    """

    def __init__(self, watchdog: LoopWatchdog, checks: CheckRunner) -> None:
        self.watchdog = watchdog
        self.checks = checks
        self._phase = Phase.STARTING
        # Read on every request: plain attributes, kept in step with the phase.
        self.draining = False
        self.stopping = False
        self.startup_error: str | None = None
        # Event-loop time by which in-flight work must finish, once known.
        self.drain_deadline: float | None = None
        self._on_startup_failure: list[Callable[[], None]] = []
        # Set in a worker of GL_WORKERS: readiness and liveness also answer for the others.
        self.peers: Peers | None = None

    @property
    def phase(self) -> Phase:
        """Where the agent is now."""
        return self._phase

    def _move(self, phase: Phase) -> None:
        self._phase = phase
        self.draining = phase in (Phase.DRAINING, Phase.STOPPING)
        self.stopping = phase is Phase.STOPPING

    def begin_startup(self) -> None:
        """The listener is open and the startup begins (again, for a restarted runtime).

        A shutdown that began first stands.
        """
        if not self.draining:
            self._move(Phase.STARTING)
            self.drain_deadline = None
        self.startup_error = None

    def startup_complete(self) -> None:
        """Every ``on_startup`` hook has run: serve, unless a shutdown began meanwhile."""
        if self._phase is Phase.STARTING:
            self._move(Phase.SERVING)

    def startup_failed(self, reason: str) -> None:
        """A hook failed: never ready; tell whoever waits to shut the server down."""
        self.startup_error = reason
        self._move(Phase.STARTUP_FAILED)
        for callback in list(self._on_startup_failure):
            callback()

    def when_startup_fails(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` if the startup fails; return a function that forgets it."""
        self._on_startup_failure.append(callback)
        return lambda: self._on_startup_failure.remove(callback)

    def begin_drain(self) -> None:
        """A shutdown signal: readiness turns 503 at once, requests are still served."""
        if self._phase is not Phase.STARTUP_FAILED and not self.draining:
            self._move(Phase.DRAINING)

    def drain_until(self, deadline: float) -> None:
        """The listener has closed: in-flight work has until ``deadline`` (loop time)."""
        self.drain_deadline = deadline

    def pass_deadline(self) -> None:
        """The drain deadline has passed: calls still arriving or running get 503."""
        self._move(Phase.STOPPING)

    def live(self) -> ProbeResult:
        """Liveness: the event loop keeps up; nothing external is consulted."""
        lag = self.watchdog.lag()
        up = lag < self.watchdog.threshold
        check: dict[str, Any] = {
            "status": "up" if up else "down",
            "latency_ms": round(lag * 1000, 3),
        }
        if not up:
            check["error"] = (
                f"the event loop was stalled for {lag:.1f} s "
                f"(threshold GL_LOOP_STALL_SECONDS={self.watchdog.threshold:g})"
            )
        checks = {"event_loop": check}
        if self.peers is not None:
            failing = self.peers.failing()
            checks["workers"] = (
                {"status": "up"}
                if failing is None
                else {
                    "status": "down",
                    "error": failing,
                }
            )
            up = up and failing is None
        body = {"status": "ok" if up else "unavailable", "checks": checks}
        return (200 if up else 503), body

    def startup(self) -> ProbeResult:
        """Startup: every ``on_startup`` hook has finished."""
        if self._phase is Phase.STARTING:
            hooks: dict[str, Any] = {"status": "pending"}
        elif self._phase is Phase.STARTUP_FAILED:
            hooks = {"status": "down", "error": self.startup_error}
        else:
            hooks = {"status": "up"}
        up = hooks["status"] == "up"
        body = {"status": "ok" if up else "unavailable", "checks": {"on_startup": hooks}}
        return (200 if up else 503), body

    def ready(self) -> ProbeResult:
        """Readiness: started, not draining, and every critical dependency up."""
        checks_ready, status, checks = (self.peers or self.checks).report()
        if self._phase is Phase.SERVING and checks_ready:
            return 200, {"status": status, "checks": checks}
        body: dict[str, Any] = {"status": "unavailable", "checks": checks}
        if self._phase is not Phase.SERVING:
            body["reason"] = self._phase.value
        return 503, body
