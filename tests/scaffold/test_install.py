"""The first commands after `new`: the SDK is installed the way it is installed here."""

from __future__ import annotations

import json
import shlex
import sys
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenlang_runtime.cli import main
from greenlang_runtime.scaffold._install import install_command, sdk_source

ROOT = Path(__file__).resolve().parents[2]


def _distribution(tmp_path: Path, direct_url: dict[str, object] | None) -> metadata.Distribution:
    """A dist-info directory as pip writes it, with ``direct_url.json`` when given."""
    info = tmp_path / "greenlang_runtime-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: greenlang-runtime\nVersion: 1.0.0\n"
    )
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return metadata.PathDistribution(info)


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (None, '.venv/bin/pip install -e ".[test]"'),
        (
            {"url": "file:///home/me/src/greenlang-runtime", "dir_info": {"editable": True}},
            '.venv/bin/pip install -e /home/me/src/greenlang-runtime -e ".[test]"',
        ),
        (
            {"url": "file:///home/me/src/greenlang-runtime", "dir_info": {}},
            '.venv/bin/pip install /home/me/src/greenlang-runtime -e ".[test]"',
        ),
        (
            {
                "url": "file:///tmp/my%20wheels/greenlang_runtime-1.0.0-py3-none-any.whl",
                "archive_info": {"hash": "sha256=00"},
            },
            ".venv/bin/pip install '/tmp/my wheels/greenlang_runtime-1.0.0-py3-none-any.whl'"
            ' -e ".[test]"',
        ),
        (
            {
                "url": "https://example.com/greenlang-runtime.git",
                "vcs_info": {"vcs": "git", "commit_id": "abc123"},
            },
            ".venv/bin/pip install git+https://example.com/greenlang-runtime.git@abc123"
            ' -e ".[test]"',
        ),
    ],
    ids=["index", "editable-checkout", "checkout", "wheel-file", "git"],
)
def test_the_install_line_follows_how_the_sdk_was_installed(
    tmp_path: Path, direct_url: dict[str, object] | None, expected: str
) -> None:
    """From an index: the project alone; otherwise the SDK's own source named first."""
    distribution = _distribution(tmp_path, direct_url)
    assert install_command(".venv/bin/pip", distribution) == expected


def test_this_editable_checkout_is_detected() -> None:
    """The test venv holds the SDK as an editable install of this checkout."""
    assert sdk_source() == f"-e {shlex.quote(str(ROOT))}"


def test_new_prints_an_install_line_for_this_checkout(tmp_path: Path) -> None:
    """`new` prints the venv and pip line that installs the SDK from this checkout first."""
    result = CliRunner().invoke(main, ["new", "solo", "--dir", str(tmp_path), "--no-input"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2] == (
        f'  python3.11 -m venv .venv && .venv/bin/pip install -e {ROOT} -e ".[test]"'
    ), sys.executable
