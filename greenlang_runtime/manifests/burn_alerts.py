"""The four burn-rate alerts of the SLOs, and the traffic on which they must fire or not.

The expected outcomes are worked out by hand from the burn-rate arithmetic
(burn = bad ratio / budget; budget = 1 - availability, or 5 % for latency):

- steady 20x from the first sample: every window's ratio is 20x budget, over
  14.4x and 6x. The 5m rate exists from the second sample (1m): the Fast alert
  is pending at 1m and fires after its ``for: 2m``, at 3m, so within 5 minutes.
- steady 2x: under 6x and 3x, over 1x in the 3d and 6h windows: the Slow alert
  is pending from the first evaluation and fires 15 minutes later (at 30m in
  the 3-day test, evaluated every 10 minutes), well within 7 hours; the Fast
  alert never fires (2 < 6 in every window), checked up to 3 days.
- steady 0.9x: under 1x in every window: nothing fires over 3 days.
- 6 h of good traffic, then 10 minutes at 50x (5 % errors at 99.9 %) or 20x
  (every request slow): the 1h window holds at most 10 bad minutes of 60, a
  burn of 50 * 10 / 60 = 8.3x (latency: 20 * 10 / 60 = 3.3x), under 14.4x; the
  6h window at most 50 * 10 / 360 = 1.4x, under 6x: the Fast alert never fires.

The annotations show the long window's burn ($value), the share of the budget
that burn spends an hour (burn / 720 hours * 100 %), the budget left and the
hours it lasts at that burn (left * 720 / burn), and how long a whole budget
lasts (720 hours / burn): 20x spends 2.78 % an hour and a whole budget lasts 36
hours; 2x spends 0.28 % and lasts 360 hours. Burning steadily from the first
sample, the scenarios have overspent the budget: 0 % left, 0 hours.
"""

from __future__ import annotations

from dataclasses import replace

from greenlang_runtime import metric_names as names
from greenlang_runtime.manifests._scenarios import (
    Alert,
    Check,
    Scenario,
    Series,
    agent_matchers,
    sample_labels,
)
from greenlang_runtime.manifests.slo import (
    BUDGET_DAYS,
    FAST,
    SLOW,
    Burn,
    Sli,
    budget_record,
    burn_expr,
    slis,
)
from greenlang_runtime.metric_names import REQUEST_DURATION_BUCKETS, bucket_bounds
from greenlang_runtime.spec import AgentSpec

__all__ = [
    "BURN_SHOWN",
    "LASTS_SHOWN",
    "PER_HOUR_SHOWN",
    "alert_name",
    "burn_alerts",
    "burn_scenarios",
    "left_shown",
    "outage_scenario",
    "three_day_scenario",
]

_HOURS = BUDGET_DAYS * 24
BURN_SHOWN = '{{ $value | printf "%.1f" }}'
PER_HOUR_SHOWN = (
    f'{{{{ printf "%f * 100 / {_HOURS}" $value | query | first | value | printf "%.2f" }}}}'
)
LASTS_SHOWN = f'{{{{ printf "{_HOURS} / %f" $value | query | first | value | printf "%.0f" }}}}'


def left_shown(spec: AgentSpec, sli: Sli, hours: bool) -> str:
    """The budget left in % (``hours=False``), or the hours it lasts at the current burn.

    Read from the recorded budget at alert time (recorded every 5 minutes, so the
    last sample of 15 minutes); ``unknown`` before it is first recorded.
    """
    left = (
        f'clamp_min(last_over_time({budget_record(sli)}{{agent_id=\\"{spec.agent_id}\\", '
        f'tenant_id=\\"{spec.tenant}\\", namespace=\\"%s\\"}}[15m]), 0)'
    )
    query = (
        f'printf "{left} * {_HOURS} / %f" $labels.namespace $value'
        if hours
        else (f'printf "100 * {left}" $labels.namespace')
    )
    return (
        f'{{{{ with {query} | query }}}}{{{{ . | first | value | printf "%.0f" }}}}'
        "{{ else }}unknown{{ end }}"
    )


# Requests a minute in the synthetic traffic: every tier's bad count is whole.
_PER_MINUTE = 100_000


def alert_name(sli: Sli, burn: Burn) -> str:
    """``Agent<SLI>BudgetBurn<Fast|Slow>``."""
    return f"Agent{sli.title}BudgetBurn{burn.suffix}"


def _alert(spec: AgentSpec, sli: Sli, burn: Burn) -> Alert:
    agent = agent_matchers(spec)["agent"]
    windows = " or ".join(f"{f:g}x over {long} and {short}" for long, short, f in burn.pairs)
    return Alert(
        name=alert_name(sli, burn),
        expr=burn_expr(sli, burn, agent),
        duration=burn.duration,
        labels={"severity": burn.severity, "slo": sli.key},
        annotations={
            "summary": (
                f"Agent {{{{ $labels.agent_id }}}} is burning its {sli.key} error budget "
                f"({windows})"
            ),
            "description": (
                "{{ $labels.agent_id }} in {{ $labels.namespace }} spends its "
                f"{BUDGET_DAYS}-day {sli.key} budget ({sli.objective}) {BURN_SHOWN} times "
                f"as fast as the SLO allows: {PER_HOUR_SHOWN} % of the budget an hour. "
                f"At this rate the {left_shown(spec, sli, hours=False)} % of the budget "
                f"left runs out in {left_shown(spec, sli, hours=True)} hours "
                f"(a whole budget in {LASTS_SHOWN} hours)."
            ),
        },
        fired_labels=sample_labels(spec).by_agent,
    )


def burn_alerts(spec: AgentSpec) -> list[Alert]:
    """Fast and Slow, for availability then latency; the scenarios come with the Fast ones."""
    availability, latency = slis(spec)
    made = []
    for sli in (availability, latency):
        fast = _alert(spec, sli, FAST)
        made.append(replace(fast, scenarios=burn_scenarios(spec, sli)))
        made.append(_alert(spec, sli, SLOW))
    return made


def _counter(*phases: tuple[float, int]) -> str:
    """Expanding notation of a counter growing ``per_minute`` for ``minutes``, phase by phase."""
    parts, value = [], 0.0
    for index, (per_minute, minutes) in enumerate(phases):
        start = value if index == 0 else value + per_minute
        steps = minutes if index == 0 else minutes - 1
        parts.append(f"{start:g}+{per_minute:g}x{steps}")
        value += per_minute * minutes
    return " ".join(parts)


def _traffic(
    spec: AgentSpec, sli: Sli, *phases: tuple[float, int], namespace: str = ""
) -> tuple[Series, ...]:
    """Series of ``_PER_MINUTE`` requests a minute, the given share of them bad, phase by phase."""
    requests = sample_labels(spec).requests
    if namespace:
        requests = {**requests, "namespace": namespace}
    if sli.key == "availability":
        good = tuple((_PER_MINUTE * (1 - bad), minutes) for bad, minutes in phases)
        failed = tuple((_PER_MINUTE * bad, minutes) for bad, minutes in phases)
        return (
            Series(names.REQUESTS, {**requests, "status": "success"}, _counter(*good)),
            Series(names.REQUESTS, {**requests, "status": "error"}, _counter(*failed)),
        )
    # Fast requests land in the first bucket, slow ones in the bucket right past the
    # threshold: reading any other bound than the threshold's gets the ratio wrong.
    threshold = spec.slo.p95_latency_seconds
    series = []
    bounds = bucket_bounds(REQUEST_DURATION_BUCKETS)
    for bound, le in zip([*REQUEST_DURATION_BUCKETS, float("inf")], bounds, strict=True):
        counts = tuple(
            (_PER_MINUTE * (1.0 if bound > threshold else 1 - bad), minutes)
            for bad, minutes in phases
        )
        labels = {**requests, "le": le}
        series.append(Series(f"{names.REQUEST_DURATION}_bucket", labels, _counter(*counts)))
    return tuple(series)


def burn_scenarios(spec: AgentSpec, sli: Sli) -> tuple[Scenario, ...]:
    """A steady 20x burn, evaluated every minute."""
    fast = alert_name(sli, FAST)
    # Steady from the first sample, the budget is overspent (1 - 20 < 0): 0 % left, 0 hours.
    shown_20x = {
        BURN_SHOWN: "20.0",
        PER_HOUR_SHOWN: "2.78",
        LASTS_SHOWN: "36",
        left_shown(spec, sli, hours=False): "0",
        left_shown(spec, sli, hours=True): "0",
    }
    return (
        Scenario(
            f"{sli.key}: a steady 20x burn pages at 3m (pending at 1m, for 2m)",
            _traffic(spec, sli, (20 * sli.budget, 20)),
            (
                Check("2m", fast, fires=False),
                Check("3m", fast, fires=True, shown=shown_20x),
                Check("5m", fast, fires=True, shown=shown_20x),
            ),
        ),
    )


def outage_scenario(spec: AgentSpec) -> Scenario:
    """6 hours of good traffic, then a 10-minute outage, for both SLIs: no page.

    Evaluated every 5 minutes, so each recorded 5m rate covers new traffic and
    the recorded samples still see every bad minute.
    """
    series: list[Series] = []
    checks: list[Check] = []
    for sli in slis(spec):
        # 50x at 99.9 % is 5 % errors; for latency every request slow (20x of a 5 % budget).
        outage = min(1.0, (50 if sli.key == "availability" else 20) * sli.budget)
        series += _traffic(spec, sli, (0.0, 360), (outage, 10), (0.0, 70))
        fast = alert_name(sli, FAST)
        checks += [
            Check(at, fast, fires=False)
            for at in ("6h5m", "6h10m", "6h15m", "6h30m", "7h", "7h10m")
        ]
    return Scenario(
        "10 minutes of outage after 6 hours of good traffic do not page",
        tuple(series),
        tuple(checks),
        evaluation="5m",
    )


def three_day_scenario(spec: AgentSpec) -> Scenario:
    """Steady 2x in production and 0.9x in staging, for both SLIs, over 3 days.

    Evaluated every 10 minutes (the 3-day windows make short steps slow): the
    rates exist from the first step (10m), so the Slow alert is pending at 10m
    and fires at the first step ``for: 15m`` later, 30m; at 20m it is pending.
    """
    three_days = 3 * 24 * 60
    staging = spec.namespace("staging")
    series: list[Series] = []
    checks: list[Check] = []
    for sli in slis(spec):
        # Steady from the first sample, 1 - 2 < 0 of the budget is left: 0 %, 0 hours.
        shown_2x = {
            BURN_SHOWN: "2.0",
            PER_HOUR_SHOWN: "0.28",
            LASTS_SHOWN: "360",
            left_shown(spec, sli, hours=False): "0",
            left_shown(spec, sli, hours=True): "0",
        }
        series += _traffic(spec, sli, (2 * sli.budget, three_days))
        series += _traffic(spec, sli, (0.9 * sli.budget, three_days), namespace=staging)
        fast, slow = alert_name(sli, FAST), alert_name(sli, SLOW)
        # Only production's 2x fires, only the Slow alert; staging's 0.9x never.
        checks += [
            Check("20m", slow, fires=False),
            Check("30m", slow, fires=True, shown=shown_2x),
            Check("7h", slow, fires=True, shown=shown_2x),
            Check("3d", slow, fires=True, shown=shown_2x),
            *(Check(at, fast, fires=False) for at in ("5m", "1h", "6h", "1d", "2d", "3d")),
        ]
    return Scenario(
        "steady 2x (production) and 0.9x (staging) burns over 3 days: only the Slow "
        "alerts of production fire, from 30m on; nothing pages",
        tuple(series),
        tuple(checks),
        evaluation="10m",
    )
