"""``greenlang-runtime new``: an agent project, rendered in memory, written whole or not at all."""

from __future__ import annotations

import tomllib
from dataclasses import asdict
from pathlib import Path, PurePosixPath

from greenlang_runtime._version import __version__
from greenlang_runtime.config import Settings
from greenlang_runtime.scaffold._templates import render_template
from greenlang_runtime.scaffold._values import FIELDS, ProjectValues, check_project_name
from greenlang_runtime.scaffold._writer import create_tree
from greenlang_runtime.spec import TABLE, AgentSpec

__all__ = ["DEPLOY", "ProjectValues", "check_values", "create_project", "render_project"]

# Where the project keeps what `greenlang-runtime manifests` renders.
DEPLOY = PurePosixPath("deploy")
_PYPROJECT = PurePosixPath("pyproject.toml")
# Spec names whose extra is named otherwise.
_EXTRAS = {"llm-ledger": "postgres"}


def _context(values: ProjectValues) -> dict[str, object]:
    # The image's user is the uid the Deployment's securityContext runs the pod as.
    from greenlang_runtime.config import DATABASE_URL_VARIABLE, REDIS_URL_VARIABLE, RUN_AS_UID

    # The variable each dependency is configured by, as the Deployment sets it.
    from greenlang_runtime.manifests.workload import SECRET_KEYS

    settings = Settings()
    # The LLM usage ledger's client is asyncpg, as the postgres check's.
    extras = ",".join(
        sorted({_EXTRAS.get(name, name) for name in (*values.dependencies, *values.llm_providers)})
    )
    return {
        **asdict(values),
        "dependencies": list(values.dependencies),
        "llm_providers": list(values.llm_providers),
        "dependency_variables": [
            variable for name, (variable, _) in SECRET_KEYS.items() if name in values.dependencies
        ],
        "package": values.package,
        "runtime_requirement": f"greenlang-runtime{f'[{extras}]' if extras else ''}>={__version__}",
        "testing_requirement": f"greenlang-runtime[testing]>={__version__}",
        "uid": RUN_AS_UID,
        "http_port": settings.http_port,
        "metrics_port": settings.metrics_port,
        "database_url_variable": DATABASE_URL_VARIABLE,
        "redis_url_variable": REDIS_URL_VARIABLE,
    }


def _spec(values: ProjectValues, pyproject: str) -> AgentSpec:
    """The spec the rendered ``pyproject.toml`` holds, checked by the spec's own rules."""
    data = tomllib.loads(pyproject)
    return AgentSpec.from_table(
        data["tool"][TABLE],
        name=data["project"]["name"],
        version=data["project"]["version"],
        source=f"{values.name}/pyproject.toml",
    )


def check_values(values: ProjectValues) -> AgentSpec:
    """The spec ``values`` write to ``pyproject.toml``, checked by the spec's own rules.

    Raises :class:`~greenlang_runtime.ConfigError` (the name, a value's text) or
    :class:`~greenlang_runtime.exceptions.SpecError` (a spec field) naming the first bad value.
    """
    check_project_name(values.name)
    for field in FIELDS:
        field.read(field.show(getattr(values, field.attr)), field.spec_key)
    return _spec(values, render_template(_context(values), only=_PYPROJECT)[_PYPROJECT])


def render_project(values: ProjectValues) -> dict[PurePosixPath, str]:
    """Every file of the new project, by its path in the project, checked and not yet written.

    Raises what :func:`check_values` raises.
    """
    from greenlang_runtime.manifests import render_tree

    spec = check_values(values)
    # The image the README and the Dockerfile name is the one the manifests deploy.
    files = render_template({**_context(values), "image": spec.image})
    for path, text in render_tree(spec).items():
        files[DEPLOY / path] = text
    return files


def create_project(values: ProjectValues, parent: Path) -> Path:
    """Render the project and write it to ``parent/<name>``; return that directory.

    Nothing is written when a value is invalid or the directory exists and is
    not empty; a failed write removes what it had written.
    """
    files = render_project(values)
    target = parent / values.name
    create_tree(target, files)
    return target
