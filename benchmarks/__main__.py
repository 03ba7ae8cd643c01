"""``python -m benchmarks``: run every benchmark and write docs/benchmarks.md."""

# With benchmark names as arguments only those run, and their sections are
# printed instead of written.

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import (
    bodies,
    budget,
    direct_call,
    footprint,
    http_loopback,
    in_process,
    ledger,
    llm,
    masking,
    package,
    readiness,
    tracing,
    workers,
)
from benchmarks._common import ROOT, Section, progress, table

REPORT = ROOT / "docs" / "benchmarks.md"
BENCHMARKS: dict[str, Callable[[], Section]] = {
    "direct": direct_call.run,
    "in-process": in_process.run,
    "http": http_loopback.run,
    "footprint": footprint.run,
    "readiness": readiness.run,
    "llm": llm.run,
    "tracing": tracing.run,
    "bodies": bodies.run,
    "ledger": ledger.run,
    "masking": masking.run,
    "budget": budget.run,
    "package": package.run,
    "workers": workers.run,
}
_LIBRARIES = (
    "starlette",
    "uvicorn",
    "prometheus_client",
    "httptools",
    "uvloop",
    "fastapi",
    "starlette-exporter",
    "prometheus-fastapi-instrumentator",
    "anthropic",
    "openai",
    "genai-prices",
)


def _version(distribution: str) -> str:
    """The installed version of ``distribution``, or ``not installed``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    """The CPU's model name as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _wrk_version() -> str:
    """``wrk --version``'s first words, or ``not installed``."""
    if shutil.which("wrk") is None:
        return "not installed"
    completed = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    words = (completed.stdout or completed.stderr).split()
    return " ".join(words[:2]) if words else "unknown"


def _machine() -> str:
    """What the figures were measured on, as a Markdown list."""
    libraries = ", ".join(f"{name} {_version(name)}" for name in _LIBRARIES)
    return "\n".join(
        [
            f"- CPUs: {os.cpu_count()} (`nproc`: {len(os.sched_getaffinity(0))}), {_cpu_model()}",
            f"- OS: {platform.system()} {platform.release()} ({platform.machine()})",
            f"- Python: {platform.python_implementation()} {platform.python_version()}",
            f"- greenlang-runtime {_version('greenlang-runtime')}; {libraries}",
            f"- wrk: {_wrk_version()}",
        ]
    )


def _report(sections: list[Section], seconds: float) -> str:
    """The whole of ``docs/benchmarks.md``."""
    now = datetime.datetime.now(datetime.UTC)
    targets = [row for section in sections for row in section.targets]
    head = "\n\n".join(
        [
            "# Benchmarks",
            "What the runtime costs an agent: per direct capability call, per HTTP "
            "request (in-process and over loopback), at import and in idle memory, next "
            "to bare Starlette and to the Prometheus instrumentation libraries agents "
            "would otherwise use. This file is written by the run; do not edit it by hand.",
            "Reproduce with `make bench` (installs `wrk` if missing, then runs "
            "`python -m benchmarks`; about "
            f"{round(seconds / 60)} minutes). Every comparison runs its variants in the "
            "same run, interleaved over several rounds (the machine is shared and "
            "noisy), and reports medians; compare the ratios, not the absolute "
            "figures, across machines.",
            f"Run on {now:%Y-%m-%d %H:%M} UTC, in {seconds:.0f} s, on:",
            _machine(),
            "## Targets",
            table(["target", "measured", "result"], targets) if targets else "No targets ran.",
        ]
    )
    return head + "\n\n" + "\n".join(section.markdown() for section in sections)


def main() -> None:
    """Run the benchmarks named on the command line, or all and write the report."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run every benchmark and write docs/benchmarks.md; "
        "with names, run only those and print their sections.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    names: list[str] = parser.parse_args().names or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(
            f"no benchmark named {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )
    started = time.monotonic()
    sections = []
    for name in names:
        progress(f"{name}: starting")
        sections.append(BENCHMARKS[name]())
    seconds = time.monotonic() - started
    if len(names) < len(BENCHMARKS):
        for section in sections:
            print(section.markdown())
        return
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(_report(sections, seconds), encoding="utf-8")
    progress(f"wrote {REPORT.relative_to(ROOT)} in {seconds:.0f} s")
    for section in sections:
        for row in section.targets:
            print(" | ".join(row))


if __name__ == "__main__":
    main()
