"""`greenlang-runtime new`: what it writes, and that bad input writes nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner

from greenlang_runtime._version import __version__
from greenlang_runtime.cli import main
from greenlang_runtime.manifests import render_tree
from greenlang_runtime.scaffold import ProjectValues, create_project
from greenlang_runtime.scaffold._writer import create_tree
from greenlang_runtime.spec import load_spec

CODE_FILES = {
    ".dockerignore",
    ".gitignore",
    "Dockerfile",
    "README.md",
    "pyproject.toml",
    "cbam_calculator/__init__.py",
    "cbam_calculator/agent.py",
    "tests/conftest.py",
    "tests/test_agent.py",
}


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _code_files(root: Path) -> set[str]:
    return {name for name in _files(root) if not name.startswith("deploy/")}


def _new(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["new", *args])
    return result.exit_code, result.output


def test_no_input_writes_the_project_tree(tmp_path: Path) -> None:
    """`new NAME --dir DIR --no-input` writes the whole project to DIR/NAME and says so."""
    status, output = _new("cbam-calculator", "--dir", str(tmp_path), "--no-input")
    assert status == 0, output
    assert _code_files(tmp_path / "cbam-calculator") == CODE_FILES
    assert f"Created the agent project cbam-calculator in {tmp_path / 'cbam-calculator'}" in output
    assert [p.name for p in tmp_path.iterdir()] == ["cbam-calculator"]


def test_deploy_is_what_the_written_spec_renders(tmp_path: Path) -> None:
    """deploy/ holds exactly the manifests rendered from the pyproject.toml beside it."""
    _new("cbam-calculator", "--dir", str(tmp_path), "--no-input", "--rollout", "canary")
    project = tmp_path / "cbam-calculator"
    rendered = render_tree(load_spec(project))
    on_disk = {
        name.removeprefix("deploy/"): (project / name).read_text()
        for name in _files(project)
        if name.startswith("deploy/")
    }
    assert on_disk == rendered
    for overlay in ("development", "staging", "production"):
        assert f"overlays/{overlay}/kustomization.yaml" in on_disk
    assert "base/rollout.yaml" in on_disk


def test_defaults_land_in_the_spec(tmp_path: Path) -> None:
    """Without options the spec holds the defaults: tenant `default`, the name as agent id."""
    _new("cbam-calculator", "--dir", str(tmp_path), "--no-input")
    project = tmp_path / "cbam-calculator"
    data = tomllib.loads((project / "pyproject.toml").read_text())
    assert data["project"]["name"] == "cbam-calculator"
    assert data["project"]["version"] == "0.1.0"
    assert data["project"]["dependencies"] == [f"greenlang-runtime>={__version__}"]
    assert data["project"]["optional-dependencies"]["test"] == [
        "pytest>=8",
        f"greenlang-runtime[testing]>={__version__}",
        "ruff>=0.6",
    ]
    spec = load_spec(project)
    assert spec.app == "cbam_calculator.agent:runtime"
    assert (spec.agent_id, spec.tenant, spec.version) == ("cbam-calculator", "default", "0.1.0")
    assert spec.image == "registry.greenlang.io/default/cbam-calculator"
    assert (spec.dependencies, spec.llm_providers, spec.rollout) == ((), (), "rolling")


def test_options_land_in_the_spec(tmp_path: Path) -> None:
    """Every option of the spec's main fields ends up in pyproject.toml as given."""
    status, output = _new(
        "cbam-calculator",
        "--dir", str(tmp_path),
        "--no-input",
        "--description", "Embedded emissions of CBAM goods.",
        "--agent-version", "2.3.1",
        "--tenant", "customer-abc-123",
        "--agent-id", "gl-cbam-calculator-v2",
        "--registry", "ghcr.io/acme",
        "--sla-tier", "premium",
        "--data-residency", "us",
        "--dependencies", "redis, postgres",
        "--llm-providers", "openai,anthropic",
        "--rollout", "canary",
    )  # fmt: skip
    assert status == 0, output
    project = tmp_path / "cbam-calculator"
    data = tomllib.loads((project / "pyproject.toml").read_text())
    assert data["project"]["description"] == "Embedded emissions of CBAM goods."
    # Extras sorted: anthropic, openai, postgres, redis.
    assert data["project"]["dependencies"] == [
        f"greenlang-runtime[anthropic,openai,postgres,redis]>={__version__}"
    ]
    spec = load_spec(project)
    assert (spec.agent_id, spec.tenant, spec.version) == (
        "gl-cbam-calculator-v2",
        "customer-abc-123",
        "2.3.1",
    )
    assert spec.image == "ghcr.io/acme/customer-abc-123/gl-cbam-calculator-v2"
    assert (spec.sla_tier, spec.data_residency, spec.rollout) == ("premium", "us", "canary")
    assert spec.dependencies == ("redis", "postgres")
    assert spec.llm_providers == ("openai", "anthropic")
    readme = (project / "README.md").read_text()
    assert "`DATABASE_URL` and `REDIS_URL`" in readme
    assert "`ANTHROPIC_API_KEY` and `OPENAI_API_KEY`" in readme
    assert "docker build -t ghcr.io/acme/customer-abc-123/gl-cbam-calculator-v2:2.3.1 ." in readme


def test_dir_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --dir the project goes to ./NAME."""
    monkeypatch.chdir(tmp_path)
    status, output = _new("solo", "--no-input")
    assert status == 0, output
    assert (tmp_path / "solo" / "solo" / "agent.py").is_file()


def test_an_existing_empty_directory_is_used(tmp_path: Path) -> None:
    """An empty DIR/NAME (e.g. a fresh clone's mount point) is filled, not refused."""
    (tmp_path / "solo").mkdir()
    status, output = _new("solo", "--dir", str(tmp_path), "--no-input")
    assert status == 0, output
    assert (tmp_path / "solo" / "pyproject.toml").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad"], "NAME='Bad' is invalid: it must be a DNS-1123 label"),
        (["a" * 64], "NAME='" + "a" * 64 + "' is invalid: it must be a DNS-1123 label"),
        (["--", "-agent"], "NAME='-agent' is invalid: it must be a DNS-1123 label"),
        (["my_agent"], "NAME='my_agent' is invalid: it must be a DNS-1123 label"),
        (["1agent"], "NAME='1agent' is invalid: it must start with a letter"),
        (["json"], "NAME='json' is invalid: its package 'json' would shadow"),
        (["greenlang-runtime"], "its package 'greenlang_runtime' would shadow"),
        (["pytest"], "NAME='pytest' is invalid: its package 'pytest' would shadow"),
        (["ok", "--tenant", "Acme"], "--tenant='Acme' is invalid: it must be a DNS-1123 label"),
        (["ok", "--tenant", "t" * 56], "--tenant='" + "t" * 56 + "' is invalid: it must be at"),
        (["ok", "--agent-id", "a.b"], "--agent-id='a.b' is invalid: it must be a DNS-1123 label"),
        (["ok", "--agent-version", "v1"], "--agent-version='v1' is invalid: it must be a release"),
        (["ok", "--agent-version", "1.0+local"], "--agent-version='1.0+local' is invalid"),
        (["ok", "--registry", "Reg.io"], "--registry='Reg.io' is invalid: it must be an image"),
        (["ok", "--registry", "reg.io:5000/a:tag"], "--registry='reg.io:5000/a:tag' is invalid"),
        (["ok", "--sla-tier", "gold"], "--sla-tier='gold' is invalid: it must be one of basic"),
        (["ok", "--data-residency", "eu west"], "--data-residency='eu west' is invalid"),
        (["ok", "--dependencies", "mysql"], "--dependencies='mysql' is invalid: 'mysql' is not"),
        (["ok", "--llm-providers", "openai,openai"], "is invalid: it names the same item twice"),
        (["ok", "--rollout", "big-bang"], "--rollout='big-bang' is invalid: it must be one of"),
        (["ok", "--description", "a\tb"], "--description='a\\tb' is invalid: it must be one line"),
        (["ok", "--dir", "missing"], "is invalid: it is not an existing directory"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    """A bad NAME, option or --dir exits 2 with one line naming it; the directory stays empty."""
    monkeypatch.chdir(tmp_path)
    status, output = _new("--no-input", *args)
    assert status == 2
    assert message in output
    assert output.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("existing", "message"),
    [
        ({"README.md": "mine\n"}, "the directory exists and is not empty"),
        ({".git/HEAD": "ref\n"}, "the directory exists and is not empty"),
    ],
)
def test_a_non_empty_directory_is_left_alone(
    tmp_path: Path, existing: dict[str, str], message: str
) -> None:
    """A DIR/NAME with anything in it (even only hidden files) is refused, its files untouched."""
    target = tmp_path / "solo"
    for name, text in existing.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text)
    status, output = _new("solo", "--dir", str(tmp_path), "--no-input")
    assert status == 2
    assert f"NAME='{target}' is invalid: {message}" in output
    assert _files(target) == set(existing)
    assert all((target / n).read_text() == t for n, t in existing.items())


def test_a_file_or_link_at_the_target_is_refused(tmp_path: Path) -> None:
    """DIR/NAME that is a file, or a link to an empty directory elsewhere, is refused."""
    (tmp_path / "plain").write_text("x")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked").symlink_to(elsewhere)
    assert "it exists and is not a directory" in _new("plain", "--dir", str(tmp_path))[1]
    assert "it is a symbolic link" in _new("linked", "--dir", str(tmp_path))[1]
    assert (tmp_path / "plain").read_text() == "x"
    assert list(elsewhere.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_directory_that_refuses_writes_fails_in_one_line() -> None:
    """A parent where nothing can be created (/proc) exits 2 with one line, leaving nothing."""
    status, output = _new("solo", "--dir", "/proc", "--no-input")
    assert status == 2
    assert output.startswith("Error: Cannot write the project to /proc/solo: ")
    assert output.count("\n") == 1
    assert not Path("/proc/solo").exists()


def test_a_failed_write_removes_what_it_wrote(tmp_path: Path) -> None:
    """When a write fails half-way, every file and directory it had created is gone again."""
    target = tmp_path / "half"
    # "a" is written as a file first, so "a/b" cannot be created under it.
    files = {PurePosixPath("README.md"): "x", PurePosixPath("a"): "y", PurePosixPath("a/b"): "z"}
    with pytest.raises(NotADirectoryError):
        create_tree(target, files)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_into_an_empty_directory_leaves_it_empty(tmp_path: Path) -> None:
    """A failed write into an existing empty directory leaves that directory, empty."""
    target = tmp_path / "half"
    target.mkdir()
    files = {PurePosixPath("d/one"): "x", PurePosixPath("d/one/two"): "y"}
    with pytest.raises(NotADirectoryError):
        create_tree(target, files)
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("path", ["../escape", "/etc/escape", "a/../../escape"])
def test_paths_outside_the_target_are_refused_before_any_write(tmp_path: Path, path: str) -> None:
    """A rendered path that would leave the project is refused and nothing is created."""
    files = {PurePosixPath("README.md"): "x", PurePosixPath(path): "y"}
    with pytest.raises(ValueError, match="is not a path inside the project"):
        create_tree(tmp_path / "solo", files)
    assert list(tmp_path.iterdir()) == []


def test_create_project_checks_values_given_in_code(tmp_path: Path) -> None:
    """The Python API applies the spec's rules too, and writes nothing on a bad value."""
    from greenlang_runtime.exceptions import SpecError

    with pytest.raises(SpecError, match=r"tenant='Acme' is invalid"):
        create_project(ProjectValues("solo", tenant="Acme"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_ledger_dependency_needs_the_postgres_extra_once(tmp_path: Path) -> None:
    """--dependencies llm-ledger,postgres: the postgres extra once; the README names its URL."""
    status, output = _new(
        "ledgered", "--dir", str(tmp_path), "--no-input", "--dependencies", "llm-ledger,postgres"
    )
    assert status == 0, output
    project = tmp_path / "ledgered"
    data = tomllib.loads((project / "pyproject.toml").read_text())
    assert data["project"]["dependencies"] == [f"greenlang-runtime[postgres]>={__version__}"]
    readme = (project / "README.md").read_text()
    assert "`DATABASE_URL` and `GL_LLM_LEDGER_URL` and the readiness probe" in readme
    assert load_spec(project).dependencies == ("llm-ledger", "postgres")
