"""greenlang-runtime: probes, metrics and graceful shutdown for platform agents."""

from __future__ import annotations

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

__version__ = "0.1.0"
