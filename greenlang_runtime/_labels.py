"""Kubernetes names: the DNS-1123 label and the label value, one rule each.

The identity (``config``), the agent spec and the scaffold check the same
values (agent id, tenant, version), so each pattern and the sentence that
states it live here once; every caller raises its own error type with the
reason, naming its own variable or field.
"""

from __future__ import annotations

import re

__all__ = [
    "DNS_LABEL_RULE",
    "LABEL_VALUE_RULE",
    "MAX_LABEL_LENGTH",
    "dns_label_problem",
    "label_value_problem",
]

MAX_LABEL_LENGTH = 63
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_LABEL_VALUE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")

DNS_LABEL_RULE = (
    "it must be a DNS-1123 label: at most 63 lowercase letters, digits "
    "and '-', starting and ending with a letter or digit"
)
LABEL_VALUE_RULE = (
    "it must be a Kubernetes label value: 1 to 63 letters, digits, "
    "'-', '_' or '.', starting and ending with a letter or digit"
)


def dns_label_problem(value: str, max_length: int = MAX_LABEL_LENGTH) -> str | None:
    """Why ``value`` is no DNS-1123 label of at most ``max_length`` characters, else ``None``."""
    if not _DNS_LABEL.fullmatch(value):
        return DNS_LABEL_RULE
    if len(value) > max_length:
        return f"it must be at most {max_length} characters long"
    return None


def label_value_problem(value: str, *, empty: bool = False) -> str | None:
    """Why ``value`` is no Kubernetes label value (empty allowed when ``empty``), else ``None``."""
    if (value or not empty) and not _LABEL_VALUE.fullmatch(value):
        return LABEL_VALUE_RULE
    return None
