"""Identity and settings: read from the environment, validated with named errors."""

from __future__ import annotations

import logging
from dataclasses import fields

import pytest

from greenlang_runtime import AgentRuntime, ConfigError, Identity, Settings
from greenlang_runtime.config import SecretUrl
from greenlang_runtime.exceptions import SpecError
from greenlang_runtime.spec import AgentSpec
from greenlang_runtime.testing import RuntimeClient


def test_defaults_match_the_contract() -> None:
    """With nothing set, ports, body limit and shutdown seconds are the contract's."""
    settings = Settings.from_env({})
    assert (settings.http_host, settings.http_port, settings.metrics_port) == (
        "0.0.0.0",
        8000,
        9090,
    )
    assert settings.max_body_bytes == 10_485_760
    assert settings.prestop_delay_seconds == 5
    assert settings.drain_timeout_seconds == 20
    assert settings.shutdown_hooks_timeout_seconds == 3
    assert settings.termination_grace_seconds == 28


def test_every_knob_is_read_from_its_gl_variable() -> None:
    """Each GL_* variable sets its field, parsed to the right type."""
    settings = Settings.from_env(
        {
            "GL_HTTP_HOST": "127.0.0.1",
            "GL_HTTP_PORT": "8080",
            "GL_METRICS_PORT": "9100",
            "GL_MAX_BODY_BYTES": "1024",
            "GL_PRESTOP_DELAY_SECONDS": "0",
            "GL_DRAIN_TIMEOUT_SECONDS": "2.5",
            "GL_SHUTDOWN_HOOKS_TIMEOUT_SECONDS": "1",
            "GL_LOOP_STALL_SECONDS": "3",
            "GL_LOG_LEVEL": "DEBUG",
            "GL_ACCESS_LOG": "yes",
        }
    )
    assert settings == Settings(
        http_host="127.0.0.1",
        http_port=8080,
        metrics_port=9100,
        max_body_bytes=1024,
        prestop_delay_seconds=0.0,
        drain_timeout_seconds=2.5,
        shutdown_hooks_timeout_seconds=1.0,
        loop_stall_seconds=3.0,
        log_level="debug",
        access_log=True,
    )


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("GL_HTTP_PORT", "eighty", "whole number"),
        ("GL_HTTP_PORT", "70000", "between 1 and 65535"),
        ("GL_METRICS_PORT", "0", "between 1 and 65535"),
        ("GL_METRICS_PORT", "8000", "differ from GL_HTTP_PORT"),
        ("GL_MAX_BODY_BYTES", "0", "at least 1"),
        ("GL_DRAIN_TIMEOUT_SECONDS", "-1", "non-negative"),
        ("GL_PRESTOP_DELAY_SECONDS", "nan", "finite"),
        ("GL_LOOP_STALL_SECONDS", "0", "more than 0"),
        ("GL_LOG_LEVEL", "loud", "one of debug"),
        ("GL_ACCESS_LOG", "maybe", "true or false"),
        ("GL_HTTP_HOST", " ", "host name"),
        ("GL_HTTP_HOST", "1" * 300, "an IP address (0.0.0.0, ::) or a host name"),
        ("GL_HTTP_HOST", "a b", "host name"),
        ("GL_HTTP_HOST", "-agent", "host name"),
        ("GL_HTTP_HOST", "agent..local", "host name"),
        ("GL_HTTP_HOST", "1234", "host name"),
        ("GL_HTTP_HOST", "x" * 64, "host name"),
        ("GL_HTTP_HOST", "[::1]", "host name"),
        ("GL_PRESTOP_DELAY_SECONDS", "86401", "at most 86400 (a day)"),
        ("GL_PRESTOP_DELAY_SECONDS", "1" * 400, "at most 86400 (a day)"),
        ("GL_HEADER_TIMEOUT_SECONDS", "100000", "at most 86400 (a day)"),
        ("GL_CHECK_INTERVAL_SECONDS", "90000.5", "at most 86400 (a day)"),
    ],
)
def test_invalid_setting_names_variable_and_value(
    variable: str, value: str, complaint: str
) -> None:
    """A bad GL_* value fails with a message quoting the variable and the value."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r} is invalid")
    assert complaint in message
    assert caught.value.name == variable


def test_identity_from_environment() -> None:
    """AGENT_ID, AGENT_VERSION, TENANT_ID, ENVIRONMENT and the lifecycle state are read."""
    identity = Identity.from_env(
        {
            "AGENT_ID": "gl-cbam-calculator-v2",
            "AGENT_VERSION": "2.3.1",
            "TENANT_ID": "customer-abc-123",
            "ENVIRONMENT": "production",
            "AGENT_LIFECYCLE_STATE": "certified",
        }
    )
    assert identity == Identity(
        "gl-cbam-calculator-v2", "2.3.1", "customer-abc-123", "production", "certified"
    )


def test_keyword_arguments_win_over_environment() -> None:
    """An explicit argument overrides the variable; unset ones fall back to it."""
    identity = Identity.from_env(
        {"AGENT_ID": "from-env", "TENANT_ID": "acme"}, agent_id="from-code"
    )
    assert (identity.agent_id, identity.tenant_id) == ("from-code", "acme")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AGENT_ID", "CBAM_Calculator"),
        ("AGENT_ID", "-leading-dash"),
        ("TENANT_ID", "a" * 64),
        ("ENVIRONMENT", "prod"),
        ("AGENT_VERSION", "1.0.0+build"),
    ],
)
def test_invalid_identity_names_the_variable(variable: str, value: str) -> None:
    """A bad identity value names the environment variable it came from."""
    with pytest.raises(ConfigError, match=f"^{variable}="):
        Identity.from_env({variable: value})


# The reasons as a user reads them, written out here rather than taken from the code.
_DNS_REASON = (
    "it must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', "
    "starting and ending with a letter or digit"
)
_LABEL_REASON = (
    "it must be a Kubernetes label value: 1 to 63 letters, digits, '-', '_' or '.', "
    "starting and ending with a letter or digit"
)


@pytest.mark.parametrize(
    ("variable", "key", "value", "reason"),
    [
        ("AGENT_ID", "agent-id", "CBAM_Calculator", _DNS_REASON),
        ("TENANT_ID", "tenant", "-acme", _DNS_REASON),
        ("AGENT_LIFECYCLE_STATE", "lifecycle-state", "retired!", _LABEL_REASON),
    ],
)
def test_identity_and_spec_give_one_reason_for_a_bad_label(
    variable: str, key: str, value: str, reason: str
) -> None:
    """The environment and ``[tool.greenlang-runtime]`` reject a bad label with the same words."""
    with pytest.raises(ConfigError) as from_env:
        Identity.from_env({variable: value})
    table = {"tenant": "acme", key: value}
    with pytest.raises(SpecError) as from_spec:
        AgentSpec.from_table(table, name="cbam-calculator", version="1.0.0")
    assert str(from_env.value) == f"{variable}={value!r} is invalid: {reason}."
    assert str(from_spec.value).endswith(f"{key}={value!r} is invalid: {reason}.")


def test_invalid_identity_argument_names_the_argument() -> None:
    """A bad keyword argument is named as the argument, not as a variable."""
    with pytest.raises(ConfigError, match=r"^environment='qa' is invalid: it must be one of"):
        Identity.from_env({}, environment="qa")


def test_misspelt_gl_variable_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    """A GL_* variable that sets nothing is named when serving starts, with the closest setting."""
    environ = {"GL_HTTP_PROT": "8080", "GL_HTTP_PORT": "8081", "GL_WHOLLY_UNLIKE": "1"}
    runtime = AgentRuntime(environ=environ)
    assert runtime.settings.http_port == 8081
    with caplog.at_level(logging.WARNING, logger="greenlang_runtime"), RuntimeClient(runtime):
        pass
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "GL_HTTP_PROT is set but is not a setting of greenlang-runtime; ignored "
        "(did you mean GL_HTTP_PORT?)",
        "GL_WHOLLY_UNLIKE is set but is not a setting of greenlang-runtime; ignored",
    ]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "127.0.0.1", "localhost", "agent.svc.local."])
def test_hosts_that_are_addresses_or_names_are_accepted(host: str) -> None:
    """IPv4 and IPv6 addresses and RFC 1123 host names pass the host rule."""
    assert Settings.from_env({"GL_HTTP_HOST": host}).http_host == host


def test_a_day_is_the_most_any_time_setting_holds() -> None:
    """86400 seconds is accepted for every time setting; the next hundredth is not."""
    seconds = [f.name for f in fields(Settings) if f.name.endswith("_seconds")]
    assert len(seconds) >= 7
    for field in seconds:
        assert getattr(Settings(**{field: 86400}), field) == 86400  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="at most 86400"):
            Settings(**{field: 86400.01})  # type: ignore[arg-type]


def test_multi_host_database_url_is_accepted_and_masked() -> None:
    """A libpq host list (primary, standby) is a valid DATABASE_URL; its password stays hidden."""
    url = "postgresql://app:s3cret-pw@db1:5432,db2:5433/orders"
    settings = Settings.from_env({"DATABASE_URL": url})
    assert settings.database_url is not None
    assert settings.database_url.reveal() == url
    assert str(settings.database_url) == "postgresql://app:***@db1:5432,db2:5433/orders"
    assert "s3cret-pw" not in repr(settings)


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("loop_stall_seconds", 0, "more than 0 seconds"),
        ("max_body_bytes", -5, "at least 1"),
        ("http_port", 0, "between 1 and 65535"),
        ("http_port", "8000", "between 1 and 65535"),
        ("drain_timeout_seconds", float("inf"), "finite"),
        ("prestop_delay_seconds", 1e23, "at most 86400"),
        ("loop_stall_seconds", float("nan"), "finite"),
        ("check_timeout_seconds", True, "finite"),
        ("http_host", "1" * 300, "an IP address"),
        ("log_level", "loud", "one of debug"),
        ("access_log", "yes", "true or false"),
    ],
)
def test_settings_built_in_code_are_checked_too(field: str, value: object, complaint: str) -> None:
    """Settings(...) in code obeys the same rules as the environment, naming the field."""
    with pytest.raises(ConfigError, match=f"^{field}=.* is invalid: .*{complaint}"):
        Settings(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": "postgresql://app:pa55@db:notaport/orders"},
            "DATABASE_URL='postgresql://app:***@db:notaport/orders' is invalid: "
            "it is not a URL, or its port is not a number from 0 to 65535.",
        ),
        (
            {"DATABASE_URL": "mysql://app:pa55@db/orders"},
            "DATABASE_URL='mysql://app:***@db/orders' is invalid: "
            "its scheme must be one of postgres://, postgresql://.",
        ),
        (
            {"DATABASE_URL": "postgresql://app:pa55@/orders"},
            "DATABASE_URL='postgresql://app:***@/orders' is invalid: it names no host.",
        ),
        (
            {"REDIS_URL": "http://cache:6379"},
            "REDIS_URL='http://cache:6379' is invalid: "
            "its scheme must be one of redis://, rediss://, unix://.",
        ),
        (
            {"GL_CHECK_TIMEOUT_SECONDS": "-1"},
            "GL_CHECK_TIMEOUT_SECONDS='-1' is invalid: "
            "it must be finite, more than 0 seconds and at most 86400 (a day).",
        ),
        (
            {"GL_CHECK_INTERVAL_SECONDS": "0"},
            "GL_CHECK_INTERVAL_SECONDS='0' is invalid: "
            "it must be finite, more than 0 seconds and at most 86400 (a day).",
        ),
        (
            {"DATABASE_URL": "postgresql://app:pa55@db1:5432,db2:notaport/orders"},
            "DATABASE_URL='postgresql://app:***@db1:5432,db2:notaport/orders' is invalid: "
            "it is not a URL, or its port is not a number from 0 to 65535.",
        ),
        (
            {"DATABASE_URL": "postgresql://app:pa55@db1:5432,/orders"},
            "DATABASE_URL='postgresql://app:***@db1:5432,/orders' is invalid: "
            "its host list has an entry with no host.",
        ),
        (
            {"GL_CHECK_FAILURE_THRESHOLD": "0"},
            "GL_CHECK_FAILURE_THRESHOLD='0' is invalid: it must be a whole number of at least 1.",
        ),
    ],
)
def test_bad_dependency_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    """Each malformed URL or check knob is refused naming the variable, password hidden."""
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert str(raised.value) == message
    assert "pa55" not in str(raised.value)


def test_urls_are_redacted_in_repr_and_revealed_to_the_client() -> None:
    """repr(settings) hides the password; the check still gets the whole URL."""
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://app:pa55@db/orders", "REDIS_URL": "redis://:t0ken@cache/0"}
    )
    shown = repr(settings)
    assert "database_url=SecretUrl('postgresql://app:***@db/orders')" in shown
    assert "redis_url=SecretUrl('redis://:***@cache/0')" in shown
    assert "pa55" not in shown
    assert "t0ken" not in shown
    assert settings.database_url == SecretUrl("postgresql://app:pa55@db/orders")
    assert settings.database_url is not None
    assert settings.database_url.reveal() == "postgresql://app:pa55@db/orders"


def test_url_given_in_code_is_checked_the_same_way() -> None:
    """Settings(database_url="...") in code is validated like the variable, naming the field."""
    with pytest.raises(ConfigError, match=r"^database_url='mysql://db/x' is invalid"):
        Settings(database_url="mysql://db/x")  # type: ignore[arg-type]


def test_empty_url_means_no_check() -> None:
    """An empty DATABASE_URL (a common way to unset it) registers no check."""
    assert Settings.from_env({"DATABASE_URL": ""}).database_url is None
