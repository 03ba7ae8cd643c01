"""Dependency checks: PostgreSQL, Redis and the author's own, run in the background.

Probes read the checks' last results from memory; see ``docs/checks.md``.
"""

from __future__ import annotations

from greenlang_runtime._redact import redact_text, redact_url
from greenlang_runtime.checks._check import Check, CheckState, Status
from greenlang_runtime.checks._check import validate as validate_check
from greenlang_runtime.checks._collector import DependencyMetrics
from greenlang_runtime.checks._configured import configured_checks
from greenlang_runtime.checks._runner import CheckRunner, Report
from greenlang_runtime.checks.custom import DependencyDown, custom_check
from greenlang_runtime.checks.postgres import postgres_check
from greenlang_runtime.checks.redis import redis_check

__all__ = [
    "Check",
    "CheckRunner",
    "CheckState",
    "DependencyDown",
    "DependencyMetrics",
    "Report",
    "Status",
    "configured_checks",
    "custom_check",
    "postgres_check",
    "redact_text",
    "redact_url",
    "redis_check",
    "validate_check",
]
