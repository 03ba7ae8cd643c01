"""The values a new project is rendered from: the project name and the spec's main fields.

Each field is read from text the same way whether it came from a command-line
option or from an answer at the terminal; the values are then checked by the
agent spec's own rules on the ``pyproject.toml`` they render to.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from greenlang_runtime.exceptions import ConfigError, SpecError
from greenlang_runtime.spec import (
    DEFAULT_REGISTRY,
    DEPENDENCIES,
    LLM_PROVIDERS,
    ROLLOUTS,
    SLA_TIERS,
    dns_label,
)

__all__ = [
    "FIELDS",
    "FIELDS_BY_KEY",
    "Field",
    "ProjectValues",
    "check_project_name",
    "package_name",
]

# A PEP 440 release (what pip installs) that is also a Kubernetes label value (no "+").
_VERSION = re.compile(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?")
# Names whose package would shadow a module the agent (or its tests) imports.
_TAKEN = frozenset(sys.stdlib_module_names) | {
    *("greenlang_runtime", "tests", "test", "pytest", "_pytest", "ruff", "hatchling"),
    *("anyio", "click", "starlette", "uvicorn", "httptools", "uvloop", "prometheus_client"),
    *("opentelemetry", "yaml", "jinja2", "asyncpg", "redis", "anthropic", "openai"),
    *("genai_prices", "httpx", "httpx2", "pydantic"),
}


def package_name(name: str) -> str:
    """The import package of project ``name``: ``cbam-calculator`` -> ``cbam_calculator``."""
    return name.replace("-", "_")


def _as_label(name: str) -> str:
    """``name`` made a DNS-1123 label the likely way: ``My_Agent`` -> ``my-agent``."""
    label = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return label[:63].rstrip("-")


def _is_name(name: str) -> bool:
    try:
        check_project_name(name)
    except ConfigError:
        return False
    return True


def check_project_name(name: str, shown: str = "NAME") -> str:
    """Return ``name`` if it can name a project, its package and its Kubernetes objects."""
    try:
        dns_label(shown, name)
    except SpecError as error:
        suggestion = _as_label(name)
        hint = f" (try {suggestion!r})" if suggestion != name and _is_name(suggestion) else ""
        raise ConfigError(shown, name, error.reason + hint) from None
    package = package_name(name)
    if not name[0].isalpha():
        raise ConfigError(shown, name, "it must start with a letter (it names a Python package)")
    if keyword.iskeyword(package) or package in _TAKEN:
        raise ConfigError(
            shown, name, f"its package {package!r} would shadow a Python or runtime module"
        )
    return name


@dataclass(frozen=True, slots=True)
class ProjectValues:
    """Everything a project is rendered from; ``agent_id`` defaults to ``name``."""

    name: str
    description: str = ""
    version: str = "0.1.0"
    tenant: str = "default"
    agent_id: str = ""
    registry: str = DEFAULT_REGISTRY
    sla_tier: str = "standard"
    data_residency: str = "eu"
    dependencies: tuple[str, ...] = ()
    llm_providers: tuple[str, ...] = ()
    rollout: str = "rolling"

    def __post_init__(self) -> None:
        if not self.agent_id:
            object.__setattr__(self, "agent_id", self.name)
        if not self.description:
            object.__setattr__(self, "description", f"The {self.name} agent.")

    @property
    def package(self) -> str:
        """The agent's import package."""
        return package_name(self.name)

    def updated(self, values: Mapping[str, object]) -> ProjectValues:
        """A copy with the attributes named in ``values`` replaced (as read by their fields)."""
        changes: dict[str, Any] = dict(values)
        return replace(self, **changes)


def _one_line(name: str, raw: str) -> str:
    text = raw.strip()
    if not text or not text.isprintable() or len(text) > 200:
        raise ConfigError(name, raw, "it must be one line of 1 to 200 printable characters")
    return text


def _word(name: str, raw: str) -> str:
    return raw.strip()


def _version(name: str, raw: str) -> str:
    text = raw.strip()
    if not _VERSION.fullmatch(text):
        raise ConfigError(name, raw, "it must be a release version such as 0.1.0 or 1.2.0rc1")
    return text


def _names(name: str, raw: str) -> tuple[str, ...]:
    parts = [p for p in re.split(r"[\s,]+", raw.strip().lower()) if p]
    return () if parts == ["none"] else tuple(parts)


@dataclass(frozen=True, slots=True)
class Field:
    """One value a user can give: its option, its question and how its text is read.

    Args:
        attr: the :class:`ProjectValues` attribute.
        spec_key: its key in ``[tool.greenlang-runtime]`` (``version``: ``[project]``).
        question: what the terminal asks.
        parse: text to value; raises :class:`ConfigError` naming the option.
        choices: the allowed values (of each item, for lists), shown with the question.
        flag: the option, when not ``--<attr>``.
    """

    attr: str
    spec_key: str
    question: str
    parse: Callable[[str, str], object] = _word
    choices: tuple[str, ...] = field(default=())
    flag: str = ""

    @property
    def option(self) -> str:
        """The command-line option: ``--tenant``, ``--llm-providers``, ..."""
        return self.flag or "--" + self.attr.replace("_", "-")

    @property
    def many(self) -> bool:
        """Whether the value is a list (given as comma-separated names, or none)."""
        return self.parse is _names

    def read(self, raw: str, name: str) -> object:
        """The value ``raw`` stands for; errors name ``name``."""
        return self.parse(name, raw)

    def show(self, value: object) -> str:
        """``value`` as the text a user would type for it."""
        if isinstance(value, tuple):
            return ",".join(value) or "none"
        return str(value)


FIELDS: tuple[Field, ...] = (
    Field("description", "description", "Description", _one_line),
    Field("version", "version", "Version", _version, flag="--agent-version"),
    Field("tenant", "tenant", "Tenant (DNS-1123 label; namespaces <tenant>-dev|staging|prod)"),
    Field("agent_id", "agent-id", "Agent id (DNS-1123 label)"),
    Field("registry", "registry", "Image registry"),
    Field("sla_tier", "sla-tier", "SLA tier", choices=SLA_TIERS),
    Field("data_residency", "data-residency", "Data residency (e.g. eu, us)"),
    Field("dependencies", "dependencies", "Dependencies", _names, DEPENDENCIES),
    Field("llm_providers", "llm-providers", "LLM providers", _names, LLM_PROVIDERS),
    Field("rollout", "rollout", "Rollout", choices=ROLLOUTS),
)
FIELDS_BY_KEY = {field.spec_key: field for field in FIELDS}
