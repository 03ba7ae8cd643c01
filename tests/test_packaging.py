"""The built wheel: what `pip install greenlang-runtime` really delivers."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """Build the wheel from this checkout, as a release would."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "--wheel-dir", str(out), str(ROOT)],
        check=True,
    )  # fmt: skip
    (built,) = out.glob("greenlang_runtime-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_ships_types_and_templates(wheel: zipfile.ZipFile) -> None:
    """The wheel marks the package typed and carries templates/ inside the package."""
    names = set(wheel.namelist())
    assert "greenlang_runtime/py.typed" in names
    templates = {n for n in names if n.startswith("greenlang_runtime/templates/")}
    expected = {
        "greenlang_runtime/templates/" + p.relative_to(ROOT / "templates").as_posix()
        for p in (ROOT / "templates").rglob("*")
        if p.is_file()
    }
    assert templates == expected


def test_wheel_declares_the_console_script_and_extras(wheel: zipfile.ZipFile) -> None:
    """`greenlang-runtime` is a console script; the client libraries are extras only."""
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "greenlang-runtime = greenlang_runtime.cli:main" in wheel.read(entry_points).decode()
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [
        line.removeprefix("Requires-Dist: ")
        for line in wheel.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    extras = {"asyncpg": "postgres", "redis": "redis", "anthropic": "anthropic", "openai": "openai"}
    for package, extra in extras.items():
        mine = [r for r in requires if r.startswith(package)]
        assert all("; extra == " in r for r in mine)
        assert any(r.endswith(f"; extra == '{extra}'") for r in mine)
