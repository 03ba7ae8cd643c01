"""The LLM usage ledger's alert: rows dropped, or rows pending that keep growing.

Rendered when the spec lists ``llm-ledger`` among its dependencies
(``GL_LLM_LEDGER_URL``); the runbook entry is ``AgentLLMLedgerBehind`` in
``docs/runbook.md``.
"""

from __future__ import annotations

from typing import Final

from greenlang_runtime import metric_names as names
from greenlang_runtime.manifests._scenarios import (
    Alert,
    Check,
    Scenario,
    Series,
    agent_matchers,
    sample_labels,
)
from greenlang_runtime.manifests.slo import BY
from greenlang_runtime.spec import AgentSpec

__all__ = ["LEDGER", "ledger_behind"]

# The spec's dependency that turns the ledger on.
LEDGER: Final = "llm-ledger"
NAME: Final = "AgentLLMLedgerBehind"


def ledger_behind(spec: AgentSpec) -> Alert:
    """Rows dropped in the last 10 minutes, or pending rows never 0 and growing over 15.

    A healthy ledger writes every second: ``pending`` may never read 0 on a
    busy agent, but it does not keep growing. It grows while the database is
    unreachable or slower than the calls; rows are dropped once
    ``GL_LLM_LEDGER_BUFFER`` are pending.
    """
    agent, sample = agent_matchers(spec)["agent"], sample_labels(spec)
    dropped, pending = names.LLM_LEDGER_DROPPED, names.LLM_LEDGER_PENDING
    expr = (
        f"sum by ({BY}) (increase({dropped}{{{agent}}}[10m])) > 0\n"
        "or\n"
        f"(\n  sum by ({BY}) (min_over_time({pending}{{{agent}}}[15m])) > 0\n"
        f"  and\n  sum by ({BY}) (delta({pending}{{{agent}}}[15m])) > 0\n)"
    )
    no_drop = Series(dropped, sample.agent, "0+0x40")
    return Alert(
        name=NAME,
        expr=expr,
        duration="5m",
        labels={"severity": "warning", "slo": "billing"},
        annotations={
            "summary": "The LLM usage ledger of {{ $labels.agent_id }} is falling behind",
            "description": (
                "{{ $labels.agent_id }} in {{ $labels.namespace }} has dropped LLM usage rows, "
                "or its pending rows have grown for 15 minutes: the ledger's database "
                "(GL_LLM_LEDGER_URL) is unreachable or slower than the calls."
            ),
        },
        fired_labels=sample.by_agent,
        scenarios=(
            Scenario(
                f"{NAME} fires: 10 rows dropped a minute",
                (Series(dropped, sample.agent, "0+10x40"), Series(pending, sample.agent, "0+0x40")),
                (Check("30m", NAME, fires=True),),
            ),
            Scenario(
                f"{NAME} fires: 100 more rows pending every minute (the database is gone)",
                (no_drop, Series(pending, sample.agent, "0+100x40")),
                (Check("30m", NAME, fires=True), Check("15m", NAME, fires=False)),
            ),
            Scenario(
                f"{NAME} stays quiet: 20 rows always pending on a busy agent, none dropped",
                (no_drop, Series(pending, sample.agent, "20+0x40")),
                (Check("30m", NAME, fires=False),),
            ),
        ),
    )
