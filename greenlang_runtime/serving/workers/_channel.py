"""What the supervisor and a worker say to each other, over one socket pair per worker.

The supervisor speaks first, always: each message is its current
:class:`View` (readiness, drain, liveness as it sees them), and the worker
answers each with a :class:`Snapshot` of its metrics. One exchange per
scrape, and one per poll interval so that an exited worker's last counts
are recent. Messages are pickled and length-prefixed; the pair is private
to the two processes.
"""

from __future__ import annotations

import asyncio
import pickle
import struct
from dataclasses import dataclass, field
from typing import Any

from greenlang_runtime.checks import Report
from greenlang_runtime.metrics import SketchState

__all__ = ["Snapshot", "View", "receive", "send"]

_LENGTH = struct.Struct("!I")


@dataclass(frozen=True)
class View:
    """The supervisor's view, from which every worker answers the probes.

    Attributes:
        checks: the dependency checks' report (run once, in the supervisor).
        started: every worker has finished its startup.
        draining: a shutdown signal reached the supervisor.
        failing: why liveness fails for the pod, if it does.
    """

    checks: Report = field(default_factory=lambda: (True, "ok", {}))
    started: bool = False
    draining: bool = False
    failing: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """A worker's metrics at one instant.

    Attributes:
        exposition: what its ``/metrics`` would serve (Prometheus text format).
        sketch: its latency sketch's counts.
        phase: its lifecycle phase (``starting``, ``serving``...).
    """

    exposition: str
    sketch: SketchState
    phase: str


async def send(writer: asyncio.StreamWriter, message: Any) -> None:
    """Write one message."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    writer.write(_LENGTH.pack(len(data)) + data)
    await writer.drain()


async def receive(reader: asyncio.StreamReader) -> Any:
    """Read one message; ``asyncio.IncompleteReadError`` when the other side has gone."""
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    return pickle.loads(await reader.readexactly(length))  # noqa: S301 - our own process
