"""The exposition names of every ``agent_*`` series, and their fixed labels.

The collectors that produce the series and everything that queries them
(PrometheusRule, HPA, prometheus-adapter rules, the dashboard) import these
constants, so a rename cannot leave a rule querying a series that no longer
exists. Plain strings and nothing else: the manifests import this module
without importing prometheus_client or the serving code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = [
    "AGENT_LABELS",
    "ALL_METRICS",
    "CHECK_DURATION_BUCKETS",
    "CPU_USAGE",
    "DEPENDENCY_CHECK_DURATION",
    "DEPENDENCY_UP",
    "ERRORS",
    "INFLIGHT",
    "INFO",
    "LATENCY_P50",
    "LATENCY_P95",
    "LATENCY_P99",
    "LLM_BUDGET_EXCESS",
    "LLM_BUDGET_LIMIT",
    "LLM_BUDGET_REJECTIONS",
    "LLM_BUDGET_SPENT",
    "LLM_BUDGET_UNCHECKED",
    "LLM_COST",
    "LLM_DURATION_BUCKETS",
    "LLM_FIRST_TOKEN_BUCKETS",
    "LLM_LEDGER_DROPPED",
    "LLM_LEDGER_PENDING",
    "LLM_LEDGER_ROWS",
    "LLM_REQUESTS",
    "LLM_REQUEST_DURATION",
    "LLM_TIME_TO_FIRST_TOKEN",
    "LLM_TOKENS",
    "LLM_UNPRICED",
    "MAX_LABEL_VALUE_CHARS",
    "MEMORY_USAGE",
    "QUEUE_DEPTH",
    "REQUESTS",
    "REQUEST_DURATION",
    "REQUEST_DURATION_BUCKETS",
    "bucket_bounds",
]

# Every agent_* series carries these, from the agent's identity.
AGENT_LABELS: Final = ("agent_id", "version", "tenant_id")
# The longest value of a label the runtime does not choose (a model id, an
# exception's class name, a dependency's name); real model ids, dated,
# fine-tuned or deployment names, stay well below it.
MAX_LABEL_VALUE_CHARS: Final = 128

REQUESTS: Final = "agent_requests_total"
REQUEST_DURATION: Final = "agent_request_duration_seconds"
ERRORS: Final = "agent_errors_total"
LATENCY_P50: Final = "agent_latency_p50_seconds"
LATENCY_P95: Final = "agent_latency_p95_seconds"
LATENCY_P99: Final = "agent_latency_p99_seconds"
MEMORY_USAGE: Final = "agent_memory_usage_bytes"
CPU_USAGE: Final = "agent_cpu_usage_percent"
INFLIGHT: Final = "agent_inflight_requests"
QUEUE_DEPTH: Final = "agent_queue_depth"
INFO: Final = "agent_info"

LLM_TOKENS: Final = "agent_llm_tokens_total"
LLM_COST: Final = "agent_llm_cost_usd_total"
LLM_REQUESTS: Final = "agent_llm_requests_total"
LLM_REQUEST_DURATION: Final = "agent_llm_request_duration_seconds"
LLM_TIME_TO_FIRST_TOKEN: Final = "agent_llm_time_to_first_token_seconds"  # noqa: S105
LLM_UNPRICED: Final = "agent_llm_unpriced_requests_total"
# Only with the usage ledger (GL_LLM_LEDGER_URL).
LLM_LEDGER_ROWS: Final = "agent_llm_ledger_rows_total"
LLM_LEDGER_PENDING: Final = "agent_llm_ledger_pending"
LLM_LEDGER_DROPPED: Final = "agent_llm_ledger_dropped_total"
# Only with a budget (GL_LLM_BUDGET_USD); label ``scope``.
LLM_BUDGET_LIMIT: Final = "agent_llm_budget_limit_usd"
LLM_BUDGET_SPENT: Final = "agent_llm_budget_spent_usd"
LLM_BUDGET_REJECTIONS: Final = "agent_llm_budget_rejections_total"
LLM_BUDGET_UNCHECKED: Final = "agent_llm_budget_unchecked_total"
LLM_BUDGET_EXCESS: Final = "agent_llm_budget_excess_usd_total"

DEPENDENCY_UP: Final = "agent_dependency_up"
DEPENDENCY_CHECK_DURATION: Final = "agent_dependency_check_duration_seconds"

ALL_METRICS: Final = (
    REQUESTS,
    REQUEST_DURATION,
    ERRORS,
    LATENCY_P50,
    LATENCY_P95,
    LATENCY_P99,
    MEMORY_USAGE,
    CPU_USAGE,
    INFLIGHT,
    QUEUE_DEPTH,
    INFO,
    LLM_TOKENS,
    LLM_COST,
    LLM_REQUESTS,
    LLM_REQUEST_DURATION,
    LLM_TIME_TO_FIRST_TOKEN,
    LLM_UNPRICED,
    LLM_LEDGER_ROWS,
    LLM_LEDGER_PENDING,
    LLM_LEDGER_DROPPED,
    LLM_BUDGET_LIMIT,
    LLM_BUDGET_SPENT,
    LLM_BUDGET_REJECTIONS,
    LLM_BUDGET_UNCHECKED,
    LLM_BUDGET_EXCESS,
    DEPENDENCY_UP,
    DEPENDENCY_CHECK_DURATION,
)


# Histogram buckets (upper bounds, seconds). The rules and the spec read the
# request buckets too: the latency SLO's threshold must be one of them.
REQUEST_DURATION_BUCKETS: Final = (0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0)
"""``agent_request_duration_seconds``: the platform's fixed buckets."""
LLM_DURATION_BUCKETS: Final = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""``agent_llm_request_duration_seconds``."""
LLM_FIRST_TOKEN_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
"""``agent_llm_time_to_first_token_seconds`` (streams)."""
CHECK_DURATION_BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
"""``agent_dependency_check_duration_seconds``."""


def bucket_bounds(buckets: Sequence[float]) -> list[str]:
    """The ``le`` label values of ``buckets`` (upper bounds, ascending) plus ``+Inf``.

    Written as the exposition writes them (``repr`` of a float), so a rule
    that selects ``le="0.5"`` matches the series the collector produces.
    """
    return [*(repr(float(b)) for b in buckets), "+Inf"]
