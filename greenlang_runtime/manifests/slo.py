"""The SLOs as multi-window, multi-burn-rate alerts over recorded ratios (the SRE workbook's).

Two SLIs, each with a 30-day error budget: availability (requests not
``status="error"``; ``client_error`` counts as good) and latency (requests at or
under ``p95-latency-seconds``, read at that bucket bound of the duration
histogram; 5 % of requests may be slower). Each agent records, per SLI, its bad
and total request rates over 5m from the raw series, then the bad ratio over
every window from those recordings: no alert reads a range longer than 5m of a
raw ``agent_*`` series, and the 3-day ratio costs one pass over recorded samples.
"""

from __future__ import annotations

from dataclasses import dataclass

from greenlang_runtime import metric_names as names
from greenlang_runtime.metric_names import REQUEST_DURATION_BUCKETS, bucket_bounds
from greenlang_runtime.spec import AgentSpec

__all__ = [
    "BUDGET_DAYS",
    "BY",
    "FAST",
    "LATENCY_BUDGET",
    "SLOW",
    "WINDOWS",
    "Burn",
    "Sli",
    "budget_record",
    "burns",
    "ratio_record",
    "sli_rates",
    "slis",
]

BY = "namespace, agent_id, tenant_id"
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
BUDGET_DAYS = 30
# The latency SLO: at least 95 % of requests at or under the threshold.
LATENCY_BUDGET = 0.05


@dataclass(frozen=True, slots=True)
class Sli:
    """One SLI of an agent: what counts as a bad request, and its share of the budget."""

    key: str
    title: str
    # The fraction of requests that may be bad over the budget's 30 days.
    budget: float
    objective: str


@dataclass(frozen=True, slots=True)
class Burn:
    """One burn alert: (long window, short window, burn rate) pairs, any of which fires it."""

    suffix: str
    severity: str
    duration: str
    pairs: tuple[tuple[str, str, float], ...]


# 14.4x spends 2 % of a 30-day budget in 1 h, 6x 5 % in 6 h: page.
FAST = Burn("Fast", "critical", "2m", (("1h", "5m", 14.4), ("6h", "30m", 6.0)))
# 3x spends 10 % in 1 day, 1x 10 % in 3 days: a ticket.
SLOW = Burn("Slow", "warning", "15m", (("1d", "2h", 3.0), ("3d", "6h", 1.0)))


def slis(spec: AgentSpec) -> tuple[Sli, Sli]:
    """The availability and latency SLIs of the spec's SLO."""
    slo = spec.slo
    return (
        Sli(
            "availability",
            "Availability",
            1 - slo.availability_percent / 100,
            f"{slo.availability_percent:g} % of requests not failed",
        ),
        Sli(
            "latency",
            "Latency",
            LATENCY_BUDGET,
            f"95 % of requests at or under {slo.p95_latency_seconds:g} s",
        ),
    )


def burns() -> tuple[Burn, Burn]:
    """The paging and the ticketing burn alert, for every SLI."""
    return (FAST, SLOW)


def latency_bound(spec: AgentSpec) -> str:
    """The ``le`` label of the bucket whose bound is the latency threshold."""
    index = REQUEST_DURATION_BUCKETS.index(spec.slo.p95_latency_seconds)
    return bucket_bounds(REQUEST_DURATION_BUCKETS)[index]


def sli_rates(spec: AgentSpec, sli: Sli, selector: str, window: str, by: str) -> tuple[str, str]:
    """PromQL for the bad and the total request rate of ``sli`` over ``window``.

    Shared by the recording rules and the rollout analyses, so a canary is held
    to the very SLI the alerts measure.
    """
    if sli.key == "availability":
        total = f"sum by ({by}) (rate({names.REQUESTS}{{{selector}}}[{window}]))"
        failed = f'sum by ({by}) (rate({names.REQUESTS}{{{selector}, status="error"}}[{window}]))'
        # No failed request yet means no failed series: count that as 0, not as no data.
        return f"{failed}\nor\n0 * {total}", total
    bucket = f"{names.REQUEST_DURATION}_bucket"
    total = f'sum by ({by}) (rate({bucket}{{{selector}, le="+Inf"}}[{window}]))'
    fast = f'sum by ({by}) (rate({bucket}{{{selector}, le="{latency_bound(spec)}"}}[{window}]))'
    return f"{total}\n-\n{fast}", total


def rate_record(sli: Sli, part: str) -> str:
    """The recorded 5m rate of ``sli``'s bad (``part="bad"``) or all requests."""
    return f"tenant_agent:slo_{sli.key}_{part}:rate5m"


def ratio_record(sli: Sli, window: str) -> str:
    """The recorded bad ratio of ``sli`` over ``window``."""
    return f"tenant_agent:slo_{sli.key}_bad:ratio_rate{window}"


def budget_record(sli: Sli) -> str:
    """The recorded fraction of the 30-day budget left (1 untouched, 0 or less spent)."""
    return f"tenant_agent:slo_{sli.key}_budget_remaining:ratio{BUDGET_DAYS}d"


def ratio_exprs(spec: AgentSpec, sli: Sli, agent: str) -> list[tuple[str, str]]:
    """(record, expr) of the 5m rates and of the bad ratio over every window."""
    bad, total = sli_rates(spec, sli, agent, "5m", BY)
    rules = [(rate_record(sli, "bad"), bad), (rate_record(sli, "total"), total)]
    bad_rate, all_rate = rate_record(sli, "bad"), rate_record(sli, "total")
    rules.append((ratio_record(sli, "5m"), f"{bad_rate}{{{agent}}}\n  /\n{all_rate}{{{agent}}}"))
    for window in WINDOWS[1:]:
        # The request-weighted mean of the 5m ratios: bad over all requests in the window.
        expr = (
            f"sum_over_time({bad_rate}{{{agent}}}[{window}])\n  /\n"
            f"sum_over_time({all_rate}{{{agent}}}[{window}])"
        )
        rules.append((ratio_record(sli, window), expr))
    return rules


def budget_expr(sli: Sli, agent: str) -> str:
    """The share of the 30-day budget left, from the recorded 5m rates."""
    days = f"{BUDGET_DAYS}d"
    return (
        f"1 - (\n  sum_over_time({rate_record(sli, 'bad')}{{{agent}}}[{days}])\n  /\n"
        f"  sum_over_time({rate_record(sli, 'total')}{{{agent}}}[{days}])\n"
        f") / {sli.budget:.6g}"
    )


def burn_expr(sli: Sli, burn: Burn, agent: str) -> str:
    """Any pair over its burn rate, in both windows; the value is the long window's burn."""
    pairs = []
    for long, short, factor in burn.pairs:
        pairs.append(
            f"(\n  {ratio_record(sli, long)}{{{agent}}} / {sli.budget:.6g} > {factor:g}\n"
            f"and\n  {ratio_record(sli, short)}{{{agent}}} / {sli.budget:.6g} > {factor:g}\n)"
        )
    return "\nor\n".join(pairs)
