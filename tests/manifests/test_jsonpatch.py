"""The overlay patches: RFC 6902 operations from one rendering to another."""

from __future__ import annotations

from greenlang_runtime.manifests._jsonpatch import diff


def test_changed_added_and_removed_keys_with_escaped_paths() -> None:
    """A '/' in a key is written ~1 and a '~' is written ~0, as RFC 6901 says."""
    base = {"labels": {"app.kubernetes.io/name": "a", "x~y": 1, "gone": True}, "n": 1}
    target = {"labels": {"app.kubernetes.io/name": "b", "x~y": 1, "new": "v"}, "n": 1}
    assert diff(base, target) == [
        {"op": "remove", "path": "/labels/gone"},
        {"op": "replace", "path": "/labels/app.kubernetes.io~1name", "value": "b"},
        {"op": "add", "path": "/labels/new", "value": "v"},
    ]


def test_lists_patch_by_index_or_are_replaced_whole() -> None:
    """Same length: per-item operations; another length: one replace of the list."""
    assert diff({"env": [{"v": 1}, {"v": 2}]}, {"env": [{"v": 1}, {"v": 3}]}) == [
        {"op": "replace", "path": "/env/1/v", "value": 3}
    ]
    assert diff({"env": [1]}, {"env": [1, 2]}) == [
        {"op": "replace", "path": "/env", "value": [1, 2]}
    ]


def test_a_type_change_is_a_replace_even_when_equal() -> None:
    """1 and 1.0 compare equal in Python but are different YAML: the patch replaces."""
    assert diff({"a": 1}, {"a": 1.0}) == [{"op": "replace", "path": "/a", "value": 1.0}]
    assert diff({"a": {"b": 1}}, {"a": {"b": 1}}) == []
