"""The GL_LLM_BUDGET_* settings: each checked at start, one message naming the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from greenlang_runtime import ConfigError, Settings
from greenlang_runtime.llm.budget import BudgetConfig

REDIS = {"REDIS_URL": "redis://:pw@127.0.0.1:6379/0"}


def test_defaults_and_the_redis_url_fallback() -> None:
    """day, tenant, allow, 600 s; the Redis is REDIS_URL unless GL_LLM_BUDGET_REDIS_URL is set."""
    settings = Settings.from_env({"GL_LLM_BUDGET_USD": "25", **REDIS})
    config = BudgetConfig.from_settings(settings)
    assert config == BudgetConfig(
        usd=25.0,
        redis_url="redis://:pw@127.0.0.1:6379/0",
        period="day",
        scope="tenant",
        on_error="allow",
        reservation_seconds=600.0,
    )
    own = Settings.from_env(
        {
            "GL_LLM_BUDGET_USD": "25",
            "GL_LLM_BUDGET_REDIS_URL": "redis://budget:6380/2",
            "GL_LLM_BUDGET_PERIOD": "Month",
            "GL_LLM_BUDGET_SCOPE": "agent",
            "GL_LLM_BUDGET_ON_ERROR": "deny",
            "GL_LLM_BUDGET_RESERVATION_SECONDS": "30",
            **REDIS,
        }
    )
    config = BudgetConfig.from_settings(own)
    assert config is not None
    assert (config.redis_url, config.period, config.scope, config.on_error) == (
        "redis://budget:6380/2",
        "month",
        "agent",
        "deny",
    )
    assert config.reservation_seconds == 30.0
    assert BudgetConfig.from_settings(Settings.from_env(REDIS)) is None


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("GL_LLM_BUDGET_USD", "0", "above 0"),
        ("GL_LLM_BUDGET_USD", "-5", "above 0"),
        ("GL_LLM_BUDGET_USD", "ten", "amount of USD"),
        ("GL_LLM_BUDGET_USD", "1e3", "amount of USD"),
        ("GL_LLM_BUDGET_USD", "2000000", "at most 1000000"),
        ("GL_LLM_BUDGET_PERIOD", "week", "one of day, month"),
        ("GL_LLM_BUDGET_SCOPE", "everyone", "one of tenant, agent"),
        ("GL_LLM_BUDGET_ON_ERROR", "retry", "one of allow, deny"),
        ("GL_LLM_BUDGET_RESERVATION_SECONDS", "0", "more than 0"),
        ("GL_LLM_BUDGET_RESERVATION_SECONDS", "soon", "seconds"),
        ("GL_LLM_BUDGET_REDIS_URL", "http://cache:6379", "scheme"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_value(
    variable: str, value: str, complaint: str
) -> None:
    """Each budget variable is checked with one line quoting it."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"GL_LLM_BUDGET_USD": "10", **REDIS, variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r} is invalid")
    assert complaint in message
    assert message.count("\n") == 0


def test_a_budget_without_any_redis_url_names_gl_llm_budget_redis_url() -> None:
    """GL_LLM_BUDGET_USD alone: the error names the variable to set."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"GL_LLM_BUDGET_USD": "10"})
    assert caught.value.name == "GL_LLM_BUDGET_REDIS_URL"
    assert "REDIS_URL" in caught.value.reason


def test_the_budget_redis_password_is_never_shown() -> None:
    """A bad GL_LLM_BUDGET_REDIS_URL is quoted with its password masked; repr masks it too."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {"GL_LLM_BUDGET_USD": "10", "GL_LLM_BUDGET_REDIS_URL": "http://:hunter2@cache:1"}
        )
    assert "hunter2" not in str(caught.value)
    settings = Settings.from_env(
        {"GL_LLM_BUDGET_USD": "10", "GL_LLM_BUDGET_REDIS_URL": "redis://:hunter2@cache:1/0"}
    )
    assert "hunter2" not in repr(settings)


def test_the_budget_package_does_not_import_redis() -> None:
    """redis is imported with the first reservation, not with the budget's modules."""
    code = (
        "import sys, greenlang_runtime.llm.budget, greenlang_runtime.llm._accounting; "
        "print('redis' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
