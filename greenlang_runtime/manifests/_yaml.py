"""YAML as the manifests are written: block style, literal multi-line strings, no anchors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

__all__ = ["dump"]


class _Dumper(yaml.SafeDumper):
    """Block style everywhere; multi-line strings (rule expressions, JSON) as literals."""

    def ignore_aliases(self, data: Any) -> bool:
        # Shared dicts (a selector used twice) are written out, never as &anchors.
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(documents: Iterable[Any]) -> str:
    """``documents`` as YAML, separated by ``---``."""
    return yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000
    )
