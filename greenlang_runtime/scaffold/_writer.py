"""Writing a rendered project: all of it, into an empty directory, or nothing at all."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from greenlang_runtime.exceptions import ConfigError

__all__ = ["check_target", "create_tree"]


def check_target(target: Path, shown: str) -> None:
    """Refuse a target that exists and is not an empty directory (or is a link).

    Args:
        target: where the project would go.
        shown: how the user named it, for the message (e.g. ``NAME``).
    """
    if target.is_symlink():
        raise ConfigError(shown, str(target), "it is a symbolic link; give a new directory")
    if not target.exists():
        if not target.parent.is_dir():
            raise ConfigError("--dir", str(target.parent), "it is not an existing directory")
        return
    if not target.is_dir():
        raise ConfigError(shown, str(target), "it exists and is not a directory")
    if any(target.iterdir()):
        raise ConfigError(shown, str(target), "the directory exists and is not empty")


def create_tree(target: Path, files: Mapping[PurePosixPath, str]) -> None:
    """Create ``target`` (or use it if empty) and create ``files`` in it, refusing any that exist.

    Every path must stay inside ``target``; files are created exclusively
    (never overwritten). On any failure, and on
    an interrupt, everything created so far is removed again, ``target``
    included when this call created it, and the error propagates.
    """
    for relative in files:
        if relative.is_absolute() or not relative.parts or ".." in relative.parts:
            raise ValueError(f"{relative} is not a path inside the project")
    check_target(target, "NAME")
    created: list[Path] = []
    try:
        if not target.exists():
            target.mkdir()
            created.append(target)
        for relative, text in sorted(files.items()):
            path = target.joinpath(*relative.parts)
            for folder in reversed(path.parents[: len(relative.parts) - 1]):
                if not folder.exists():
                    folder.mkdir()
                    created.append(folder)
            with path.open("x", encoding="utf-8", newline="\n") as stream:
                created.append(path)
                stream.write(text)
    except BaseException:
        _remove(created)
        raise


def _remove(created: list[Path]) -> None:
    for path in reversed(created):
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
        except OSError:
            continue  # best effort: the original error is the one to report
