"""``GL_WORKERS``: a supervisor and N worker processes sharing the HTTP port (docs/workers.md)."""

from __future__ import annotations

from greenlang_runtime.serving.workers._supervisor import supervise
from greenlang_runtime.serving.workers._worker import (
    WORKER_VARIABLE,
    WorkerSeat,
    serve_worker,
    worker_seat,
)

__all__ = ["WORKER_VARIABLE", "WorkerSeat", "serve_worker", "supervise", "worker_seat"]
