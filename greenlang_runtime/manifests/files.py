"""Writing the rendered tree, and comparing it with what is on disk (``--check``).

Only the paths the command renders are its own: ``base/``, ``promtool/``,
``platform/`` (Argo CD Applications only of the environments rendered) and
the overlays of the environments rendered. Files there that
the spec no longer renders are removed on write and reported by a check;
anything else in the directory is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from greenlang_runtime.exceptions import GreenlangRuntimeError

__all__ = ["OutputError", "differences", "write_tree"]

_OWNED_DIRECTORIES = ("base", "promtool", "platform")


class OutputError(GreenlangRuntimeError):
    """The output directory cannot take the rendered files."""


def _owned(relative: Path, environments: Sequence[str]) -> bool:
    parts = relative.parts
    if len(parts) == 2 and parts[0] == "platform" and parts[1].startswith("argocd-"):
        return parts[1].removeprefix("argocd-").removesuffix(".yaml") in environments
    if len(parts) == 2 and parts[0] in _OWNED_DIRECTORIES:
        return True
    return len(parts) == 3 and parts[0] == "overlays" and parts[1] in environments


def _on_disk(root: Path, environments: Sequence[str]) -> set[str]:
    if not root.is_dir():
        return set()
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and _owned(path.relative_to(root), environments)
    }


def differences(root: Path, files: Mapping[str, str], environments: Sequence[str]) -> list[str]:
    """One line per file that differs from, is missing from, or is extra to ``files``."""
    lines = []
    for relative, text in sorted(files.items()):
        path = root / relative
        if not path.is_file():
            lines.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            lines.append(f"{path}: differs from what the spec renders")
    for relative in sorted(_on_disk(root, environments) - set(files)):
        lines.append(f"{root / relative}: not rendered by the spec any more")
    return lines


def write_tree(root: Path, files: Mapping[str, str], environments: Sequence[str]) -> None:
    """Write ``files`` under ``root`` and remove the owned files the spec no longer renders.

    Every path is checked before the first write, so a blocked path writes nothing.
    """
    for relative in files:
        for parent in [root, *(root / relative).parents]:
            if parent.exists() and not parent.is_dir():
                raise OutputError(
                    f"Cannot write manifests: {parent} exists and is not a directory."
                )
        if (root / relative).is_dir():
            raise OutputError(f"Cannot write manifests: {root / relative} is a directory.")
    stale = _on_disk(root, environments) - set(files)
    try:
        for relative, text in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
        for relative in stale:
            (root / relative).unlink()
    except OSError as error:
        raise OutputError(f"Cannot write manifests to {root}: {error.strerror or error}.") from None
