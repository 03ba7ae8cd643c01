"""The JSON Patch (RFC 6902) that turns one rendered object into another."""

from __future__ import annotations

from typing import Any

__all__ = ["diff"]


def diff(base: Any, target: Any, path: str = "") -> list[dict[str, Any]]:
    """Operations turning ``base`` into ``target``; lists of another length are replaced."""
    if isinstance(base, dict) and isinstance(target, dict):
        ops: list[dict[str, Any]] = []
        for key in base:
            if key not in target:
                ops.append({"op": "remove", "path": f"{path}/{_escape(key)}"})
        for key, value in target.items():
            where = f"{path}/{_escape(key)}"
            if key not in base:
                ops.append({"op": "add", "path": where, "value": value})
            else:
                ops.extend(diff(base[key], value, where))
        return ops
    if isinstance(base, list) and isinstance(target, list) and len(base) == len(target):
        return [
            op
            for i, (a, b) in enumerate(zip(base, target, strict=True))
            for op in diff(a, b, f"{path}/{i}")
        ]
    if type(base) is type(target) and base == target:
        return []
    return [{"op": "replace", "path": path, "value": target}]


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")
