"""Rendering the project template (``templates/agent``) in memory with Jinja2.

Installed from a wheel, the template lives in the package as
``greenlang_runtime/templates``; in a source checkout (an editable install) it
is the repository's ``templates/`` next to the package.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["TEMPLATE_SUFFIX", "render_template", "template_root"]

TEMPLATE = "agent"
TEMPLATE_SUFFIX = ".j2"
# Left behind by tools that ran inside a source checkout, never part of a project.
_SKIPPED = frozenset({"__pycache__", ".DS_Store"})


def template_root() -> Traversable:
    """The project template: inside the installed package, else in the source checkout."""
    packaged = resources.files("greenlang_runtime") / "templates" / TEMPLATE
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "templates" / TEMPLATE
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"the project template is missing: neither {packaged} nor {checkout} exists"
    )


def _walk(folder: Traversable, at: PurePosixPath) -> Iterator[tuple[PurePosixPath, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name in _SKIPPED or entry.name.endswith(".pyc"):
            continue
        if entry.is_dir():
            yield from _walk(entry, at / entry.name)
        else:
            yield at / entry.name, entry


def _toml(value: object) -> str:
    """``value`` as a TOML literal: JSON's strings and arrays are valid TOML."""
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value)


def _environment() -> Any:
    import jinja2

    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - renders TOML, Python and Markdown, never HTML
    )
    # A JSON string is also a valid TOML and Python string literal.
    environment.filters["toml"] = _toml
    environment.filters["py"] = json.dumps
    return environment


def render_template(
    context: Mapping[str, object],
    root: Traversable | None = None,
    only: PurePosixPath | None = None,
) -> dict[PurePosixPath, str]:
    """Every file of the template rendered with ``context``, keyed by its path in the project.

    Path parts are templates too (``{{package}}/agent.py.j2``); files ending in
    ``.j2`` are rendered and lose the suffix, others are copied as they are.
    With ``only``, just the file that renders to that path.
    """
    environment = _environment()
    files: dict[PurePosixPath, str] = {}
    for source, entry in _walk(root or template_root(), PurePosixPath()):
        parts = [environment.from_string(part).render(context) for part in source.parts]
        rendered = parts[-1].endswith(TEMPLATE_SUFFIX)
        parts[-1] = parts[-1].removesuffix(TEMPLATE_SUFFIX)
        path = PurePosixPath(*parts)
        if any(part in ("", ".", "..") or "/" in part for part in parts) or path in files:
            raise ValueError(f"the template file {source} renders to a bad path {path}")
        if only is not None and path != only:
            continue
        text = entry.read_text(encoding="utf-8")
        files[path] = environment.from_string(text).render(context) if rendered else text
    return files
