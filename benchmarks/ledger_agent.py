"""The agent the ledger benchmark serves: one capability that counts N calls at once.

``fill`` hands the ledger N rows exactly as counting N finished LLM calls
does (``Ledger.add``, the cost as the counter gets it), without making the
calls: what the benchmark times is writing them out at SIGTERM.
"""

from __future__ import annotations

import time
from typing import Any

from greenlang_runtime import AgentRuntime
from greenlang_runtime.llm import Usage

__all__ = ["runtime"]

runtime = AgentRuntime(agent_id="bench-ledger")


@runtime.capability
def fill(payload: dict[str, Any]) -> dict[str, int]:
    """Add ``payload["rows"]`` rows to the ledger's buffer; returns how many are pending."""
    ledger = runtime.ledger
    if ledger is None:
        raise RuntimeError("GL_LLM_LEDGER_URL is not set")
    usage = Usage(800, 300, 200, 0)
    now = time.time()
    for _ in range(int(payload["rows"])):
        ledger.add(
            "openai", "gpt-4o", usage, 0.00525, True, "success", 1.0, now, (None, "fill", None)
        )
    return {"pending": ledger.buffer.pending}
