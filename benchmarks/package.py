"""Benchmark 10: what each entry point loads, and how long ``run`` takes to import.

Each entry point runs its imports in a fresh interpreter and reports
``sys.modules``: every module loaded, those of the package, and which of the
heavy libraries came along. The import time of ``run`` is the wall time of a
fresh interpreter that imports the CLI, the runtime and the server, less that
of an interpreter that imports nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from statistics import median

from benchmarks._common import ROOT, Section, interleaved, number, progress, server_env, table

__all__ = ["run"]

RUNS = 10
# The libraries an entry point should load only when it needs them.
HEAVY = ("anyio", "jinja2", "opentelemetry", "prometheus_client", "starlette", "uvicorn", "yaml")
# What each entry point imports before it does its work.
ENTRY_POINTS = {
    "`import greenlang_runtime.config`": "import greenlang_runtime.config",
    "`manifests` (the CLI and the command)": (
        "from greenlang_runtime.cli import main\nimport greenlang_runtime.manifests._command"
    ),
    "`run` (the CLI, the runtime, the server)": (
        "from greenlang_runtime.cli import main\n"
        "import greenlang_runtime.runtime\n"
        "import greenlang_runtime.serving.launch"
    ),
}
_RUN = ENTRY_POINTS["`run` (the CLI, the runtime, the server)"]
_REPORT = (
    "\nimport json, sys\n"
    "print(json.dumps([len(sys.modules), "
    "sum(name.split('.')[0] == 'greenlang_runtime' for name in sys.modules), "
    "sorted(name for name in {heavy} if name in sys.modules)]))\n"
)


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter; return what it printed."""
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


def _loaded(code: str) -> tuple[int, int, list[str]]:
    """Modules loaded after ``code``: all of them, the package's, the heavy ones."""
    total, package, heavy = json.loads(_python(code + _REPORT.format(heavy=HEAVY)))
    return int(total), int(package), [str(name) for name in heavy]


def _wall_ms(code: str) -> float:
    """Milliseconds from starting a fresh interpreter running ``code`` to its exit."""
    started = time.perf_counter()
    _python(code)
    return (time.perf_counter() - started) * 1000


def _run_import_ms() -> tuple[float, float]:
    """Median wall times of a bare interpreter and of one importing ``run``, in turns."""
    variants = ["pass", _RUN]
    times: dict[str, list[float]] = {code: [] for code in variants}
    for code in variants:  # warm the file and bytecode caches
        _wall_ms(code)
    for _, code in interleaved(variants, RUNS):
        times[code].append(_wall_ms(code))
    return median(times["pass"]), median(times[_RUN])


def run() -> Section:
    """Read each entry point's modules, then time the import of ``run``."""
    progress("package footprint: modules per entry point")
    rows = []
    for name, code in ENTRY_POINTS.items():
        total, package, heavy = _loaded(code)
        rows.append([name, str(total), str(package), ", ".join(heavy) or "none"])
    progress(f"package footprint: import time of run, {RUNS} fresh interpreters")
    bare_ms, run_ms = _run_import_ms()
    return Section(
        title="10. Package footprint: modules per entry point, import time of `run`",
        intro=(
            "Each entry point's imports in a fresh interpreter, then `sys.modules` read: "
            "every module loaded (the interpreter's own included), those of "
            "`greenlang_runtime`, and which of "
            f"{', '.join(f'`{name}`' for name in HEAVY)} came along. The import time of "
            f"`run` is the median wall time of {RUNS} fresh interpreters importing the CLI, "
            "the runtime and the server, less that of an interpreter importing nothing, "
            "the two in turns."
        ),
        tables=[
            table(["entry point", "modules loaded", "of the package", "heavy libraries"], rows),
            table(
                ["interpreter", "wall ms (median)", "import ms"],
                [
                    ["bare (`pass`)", number(bare_ms, 1), "—"],
                    ["`run`'s imports", number(run_ms, 1), number(run_ms - bare_ms, 1)],
                ],
            ),
        ],
        notes=[
            "Before the package was split into sub-packages with a lazy root (issue 15; "
            "commit a360ec1, measured the same way): `config` loaded 271 modules, 32 of the "
            "package, with anyio and prometheus_client; `manifests` 348 and 60, with anyio, "
            "prometheus_client and yaml; `run` 400 and 63, with anyio, prometheus_client, "
            "uvicorn and yaml. Side by side on 2026-12-02 (10 fresh interpreters each, in "
            "turns), `run`'s imports took 351 ms before and 240 ms after."
        ],
    )
