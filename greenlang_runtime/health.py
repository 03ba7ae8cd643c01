"""The agent's lifecycle and what each probe answers, computed from memory."""

from __future__ import annotations

import enum
from typing import Any

from greenlang_runtime._watchdog import LoopWatchdog

__all__ = ["Lifecycle", "Phase", "ProbeResult"]

ProbeResult = tuple[int, dict[str, Any]]


class Phase(enum.Enum):
    """Where the agent is between start and exit."""

    STARTING = "starting"  # on_startup hooks are running
    SERVING = "serving"
    STARTUP_FAILED = "startup_failed"
    DRAINING = "draining"  # a shutdown signal arrived; readiness is 503
    STOPPING = "stopping"  # past the drain deadline: new calls get 503


class Lifecycle:
    """The state the probes report; the server and the lifespan move it forward.

    Args:
        loop_stall_seconds: a loop lagging this much fails liveness.
    """

    def __init__(self, loop_stall_seconds: float = 10.0) -> None:
        self._phase = Phase.STARTING
        # Read on every request: a plain attribute, kept in step with the phase.
        self.draining = False
        self.startup_error: str | None = None
        self.watchdog = LoopWatchdog(loop_stall_seconds, interval=min(0.5, loop_stall_seconds / 4))

    @property
    def phase(self) -> Phase:
        """Where the agent is now."""
        return self._phase

    @phase.setter
    def phase(self, phase: Phase) -> None:
        self._phase = phase
        self.draining = phase in (Phase.DRAINING, Phase.STOPPING)

    @property
    def stopping(self) -> bool:
        """Whether the drain deadline has passed."""
        return self.phase is Phase.STOPPING

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
        body = {"status": "ok" if up else "unavailable", "checks": {"event_loop": check}}
        return (200 if up else 503), body

    def startup(self) -> ProbeResult:
        """Startup: every ``on_startup`` hook has finished."""
        if self.phase is Phase.STARTING:
            hooks: dict[str, Any] = {"status": "pending"}
        elif self.phase is Phase.STARTUP_FAILED:
            hooks = {"status": "down", "error": self.startup_error}
        else:
            hooks = {"status": "up"}
        up = hooks["status"] == "up"
        body = {"status": "ok" if up else "unavailable", "checks": {"on_startup": hooks}}
        return (200 if up else 503), body

    def ready(self) -> ProbeResult:
        """Readiness: started, not draining."""
        if self.phase is Phase.SERVING:
            return 200, {"status": "ok", "checks": {}}
        return 503, {"status": "unavailable", "reason": self.phase.value, "checks": {}}
