"""The spec's ``workers``: checked, rendered into the ConfigMap as GL_WORKERS."""

from __future__ import annotations

import pytest
import yaml

from greenlang_runtime.exceptions import SpecError
from greenlang_runtime.manifests import render_tree
from tests.manifests.conftest import make_spec


def config(**table: object) -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load(render_tree(make_spec(**table))["base/configmap.yaml"])[
        "data"
    ]
    return data


def test_workers_render_into_the_configmap() -> None:
    """2 and auto become GL_WORKERS; the default (1) leaves it unset, so a pod runs one process."""
    assert config(workers=2)["GL_WORKERS"] == "2"
    assert config(workers="auto")["GL_WORKERS"] == "auto"
    assert "GL_WORKERS" not in config()
    assert "GL_WORKERS" not in config(workers=1)


@pytest.mark.parametrize("value", [0, -1, 65, "two", 1.5, True, "AUTO"])
def test_bad_workers_are_a_spec_error_naming_the_field(value: object) -> None:
    """Anything but 1 to 64 or "auto": one SpecError naming workers."""
    with pytest.raises(SpecError) as caught:
        make_spec(workers=value)
    assert caught.value.field == "workers"
    assert 'it must be a whole number from 1 to 64, or "auto"' in str(caught.value)
