"""greenlang-runtime: probes, metrics and graceful shutdown for platform agents.

The public names load on first use (PEP 562), so that importing one
sub-module (``greenlang_runtime.config``, the manifests, the CLI) does not
load the runtime, the server or prometheus_client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenlang_runtime._lazy import lazy_names
from greenlang_runtime._version import __version__

if TYPE_CHECKING:
    from greenlang_runtime.config import Identity, Settings
    from greenlang_runtime.exceptions import (
        CapabilityError,
        CheckError,
        ConfigError,
        DependencyError,
        GreenlangRuntimeError,
        InvalidInput,
        LLMBudgetExceeded,
        TargetError,
    )
    from greenlang_runtime.runtime import AgentRuntime

__all__ = [
    "AgentRuntime",
    "CapabilityError",
    "CheckError",
    "ConfigError",
    "DependencyError",
    "GreenlangRuntimeError",
    "Identity",
    "InvalidInput",
    "LLMBudgetExceeded",
    "Settings",
    "TargetError",
    "__version__",
]

# Where each public name lives.
_HOMES = {
    "AgentRuntime": "greenlang_runtime.runtime",
    "CapabilityError": "greenlang_runtime.exceptions",
    "CheckError": "greenlang_runtime.exceptions",
    "ConfigError": "greenlang_runtime.exceptions",
    "DependencyError": "greenlang_runtime.exceptions",
    "GreenlangRuntimeError": "greenlang_runtime.exceptions",
    "Identity": "greenlang_runtime.config",
    "InvalidInput": "greenlang_runtime.exceptions",
    "LLMBudgetExceeded": "greenlang_runtime.exceptions",
    "Settings": "greenlang_runtime.config",
    "TargetError": "greenlang_runtime.exceptions",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES)
