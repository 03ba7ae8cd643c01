"""The exposition names of every ``agent_*`` series, and their fixed labels.

The collectors that produce the series and everything that queries them
(PrometheusRule, HPA, prometheus-adapter rules, the dashboard) import these
constants, so a rename cannot leave a rule querying a series that no longer
exists. Plain strings and nothing else: the manifests import this module
without importing prometheus_client or the serving code.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AGENT_LABELS",
    "ALL_METRICS",
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
    "LLM_LEDGER_DROPPED",
    "LLM_LEDGER_PENDING",
    "LLM_LEDGER_ROWS",
    "LLM_REQUESTS",
    "LLM_REQUEST_DURATION",
    "LLM_TIME_TO_FIRST_TOKEN",
    "LLM_TOKENS",
    "LLM_UNPRICED",
    "MEMORY_USAGE",
    "QUEUE_DEPTH",
    "REQUESTS",
    "REQUEST_DURATION",
]

# Every agent_* series carries these, from the agent's identity.
AGENT_LABELS: Final = ("agent_id", "version", "tenant_id")

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
