"""The project's `.dockerignore` is an allow-list: the build context is what the image needs.

Docker's rules, read here by a small reader of the same rules: each line is a pattern
(`*` and `?` within one path part, `**` across any number of parts), later lines win,
a `!` line takes back what earlier lines left out, and a pattern that matches a
directory covers everything under it.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

from greenlang_runtime.scaffold import ProjectValues, create_project

VALUES = ProjectValues("cbam-calculator", tenant="customer-abc-123")
# Files a working copy gathers that must never reach an image.
STRAY = (
    ".env",
    ".env.local",
    "secrets/key.pem",
    ".git/config",
    ".venv/bin/python",
    "tests/test_agent.py",
    "deploy/base/deployment.yaml",
    "notes.md",
    "cbam_calculator/__pycache__/agent.cpython-311.pyc",
    "Dockerfile",
    ".dockerignore",
)


def _regex(pattern: str) -> re.Pattern[str]:
    """The path regex of one pattern; only `*`, `?` and `**` are special (all the file uses)."""
    assert not set(pattern) & set("[]\\"), f"the reader does not handle {pattern!r}"
    out = []
    parts = pattern.split("/")
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:.*/)?")
            continue
        out.append(re.escape(part).replace(r"\*", "[^/]*").replace(r"\?", "[^/]"))
        if not last:
            out.append("/")
    return re.compile("".join(out))


def _rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception, pattern) per line, comments and blank lines skipped."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        rules.append((keep, _regex(line.removeprefix("!").strip("/"))))
    return rules


def _excluded(rules: list[tuple[bool, re.Pattern[str]]], path: PurePosixPath) -> bool:
    """Whether Docker leaves ``path`` out: the last rule matching it or a parent decides."""
    candidates = [str(path), *(str(parent) for parent in path.parents if str(parent) != ".")]
    excluded = False
    for keep, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not keep
    return excluded


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = create_project(VALUES, tmp_path_factory.mktemp("projects"))
    for stray in STRAY:
        (root / stray).parent.mkdir(parents=True, exist_ok=True)
        (root / stray).touch()
    return root


def _context(project: Path) -> set[str]:
    rules = _rules((project / ".dockerignore").read_text())
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and not _excluded(rules, PurePosixPath(path.relative_to(project)))
    }


def test_the_reader_follows_dockers_rules() -> None:
    """The reader itself, on cases worked out from Docker's documentation."""
    rules = _rules("*\n!app\n**/*.pyc\n")
    assert _excluded(rules, PurePosixPath(".env"))
    assert _excluded(rules, PurePosixPath("docs/a.md"))  # `*` covers the directory docs
    assert not _excluded(rules, PurePosixPath("app/x.py"))  # `!app` takes the directory back
    assert _excluded(rules, PurePosixPath("app/sub/x.pyc"))  # a later line wins
    assert not _excluded(_rules("*.md\n"), PurePosixPath("docs/a.md"))  # `*` stays in one part


def test_the_build_context_is_only_what_the_image_needs(project: Path) -> None:
    """A `.env`, `.git`, `.venv`, tests, deploy/ and bytecode stay out of the context."""
    assert _context(project) == {
        "pyproject.toml",
        "README.md",
        "cbam_calculator/__init__.py",
        "cbam_calculator/agent.py",
    }


def test_every_copy_source_of_the_dockerfile_is_in_the_context(project: Path) -> None:
    """Each COPY source (not `--from` a stage) is a file, or a folder of files, in the context."""
    context = _context(project)
    sources = []
    for line in (project / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources += [word.rstrip("/") for word in words[1:-1]]
    assert sources == ["pyproject.toml", "README.md", "cbam_calculator", "pyproject.toml"]
    for source in sources:
        assert source in context or any(path.startswith(f"{source}/") for path in context), source
