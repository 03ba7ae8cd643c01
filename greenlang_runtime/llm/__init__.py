"""LLM token and cost accounting for the official anthropic and openai clients.

``AgentRuntime`` registers the ``agent_llm_*`` collector (:mod:`._collector`,
which imports neither the clients nor the price data) at its start, so the
families are exposed before any client is instrumented; the accounting
itself, with the price modules, is loaded with the first instrumented
client. The names below are loaded when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenlang_runtime._lazy import lazy_names

if TYPE_CHECKING:
    from greenlang_runtime.llm._accounting import LLMAccounting
    from greenlang_runtime.llm._collector import LLMMetrics
    from greenlang_runtime.llm._usage import Usage
    from greenlang_runtime.llm.pricing import Price

__all__ = ["LLMAccounting", "LLMMetrics", "Price", "Usage"]

_HOMES = {
    "LLMAccounting": "greenlang_runtime.llm._accounting",
    "LLMMetrics": "greenlang_runtime.llm._collector",
    "Price": "greenlang_runtime.llm.pricing",
    "Usage": "greenlang_runtime.llm._usage",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES)
