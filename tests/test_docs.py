"""The reference pages cannot drift: every metric, variable and CLI option is documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import click
import pytest

from greenlang_runtime import metric_names
from greenlang_runtime.cli import main
from greenlang_runtime.config import Settings, env_name
from greenlang_runtime.manifests.rules import rule_groups
from greenlang_runtime.spec import load_spec

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLE = DOCS.parent / "examples" / "cbam_calculator"

# The identity and the platform's variables, read outside Settings.
IDENTITY_VARIABLES = ("AGENT_ID", "AGENT_VERSION", "TENANT_ID", "ENVIRONMENT")


def documented(page: str) -> set[str]:
    """Every `code span` on ``docs/page``."""
    return set(re.findall(r"`([^`\n]+)`", (DOCS / page).read_text(encoding="utf-8")))


def test_every_metric_is_on_the_metrics_page() -> None:
    """Each agent_* series the runtime exposes has a row on docs/metrics.md."""
    spans = documented("metrics.md")
    missing = [name for name in metric_names.ALL_METRICS if name not in spans]
    assert missing == []


def test_every_variable_is_on_the_configuration_page() -> None:
    """Each setting's environment variable, and the identity's, is on docs/configuration.md."""
    spans = documented("configuration.md")
    variables = [env_name(f.name) for f in dataclasses.fields(Settings)]
    missing = [v for v in (*variables, *IDENTITY_VARIABLES) if v not in spans]
    assert missing == []


def _commands() -> list[tuple[str, click.Command]]:
    assert isinstance(main, click.Group)
    with click.Context(main) as ctx:
        named = [(name, main.get_command(ctx, name)) for name in main.list_commands(ctx)]
    return [(name, command) for name, command in named if command is not None]


@pytest.mark.parametrize(("name", "command"), _commands())
def test_every_cli_command_and_option_is_on_the_cli_page(name: str, command: click.Command) -> None:
    """Each command and each of its options appears on docs/cli.md."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"## `{name}`" in text
    section = text.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
    options = [
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--")
    ]
    missing = [opt for opt in options if f"`{opt}`" not in section]
    assert missing == []


def test_every_generated_alert_has_a_runbook_entry() -> None:
    """Each alert of the generated PrometheusRule has its own section on docs/runbook.md."""
    spec = load_spec(EXAMPLE)
    alerts = [
        rule["alert"] for group in rule_groups(spec) for rule in group["rules"] if "alert" in rule
    ]
    headings = set(re.findall(r"^## (\S+)$", (DOCS / "runbook.md").read_text(), re.MULTILINE))
    assert len(alerts) == 9
    assert sorted(set(alerts) - headings) == []


def test_every_public_name_is_on_the_api_page() -> None:
    """Every name the package and its testing module export, and every runtime method."""
    import greenlang_runtime
    import greenlang_runtime.testing
    from greenlang_runtime import AgentRuntime

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    names = [n for n in greenlang_runtime.__all__ if not n.startswith("_")]
    names += greenlang_runtime.testing.__all__
    methods = [n for n in dir(AgentRuntime) if not n.startswith("_")]
    missing = [n for n in names if f"`{n}" not in text]
    missing += [m for m in methods if f"runtime.{m}" not in text]
    assert missing == []
