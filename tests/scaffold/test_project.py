"""The generated project works out of the box: its tests, lint, Dockerfile, install and run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx2
import pytest
import yaml

from greenlang_runtime.scaffold import ProjectValues, create_project
from tests.helpers import ServedAgent, agent_env, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VALUES = ProjectValues(
    "cbam-calculator",
    tenant="customer-abc-123",
    dependencies=("postgres", "redis"),
    llm_providers=("anthropic",),
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project as `greenlang-runtime new cbam-calculator` writes it."""
    return create_project(VALUES, tmp_path_factory.mktemp("projects"))


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(
        args, cwd=cwd, env=env or agent_env(), capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout + done.stderr


def _fresh_venv(where: Path, *paths: str) -> Path:
    """A new venv without pip that also sees ``paths`` (e.g. this venv's site-packages)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    (site,) = where.glob("lib/python3.*/site-packages")
    (site / "_seen.pth").write_text("".join(f"{path}\n" for path in paths))
    return where / "bin" / "python"


def _pip_install(python: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-build-isolation", *args],
        check=True,
        timeout=300,
    )  # fmt: skip


def test_generated_tests_pass(project: Path) -> None:
    """`pytest` in the new project passes its eight tests."""
    status, output = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert status == 0, output
    assert "8 passed" in output


# A shell that exports another project's settings: dead dependencies, a wrong environment
# name, a port nothing can bind, a collector that does not exist.
_HOSTILE_SHELL = {
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/nowhere",
    "REDIS_URL": "redis://127.0.0.1:9/0",
    "ENVIRONMENT": "prod",
    "AGENT_ID": "Not A Label",
    "TENANT_ID": "other-tenant",
    "GL_HTTP_PORT": "1",
    "GL_LOG_LEVEL": "loud",
    "GL_CHECK_TIMEOUT_SECONDS": "-1",
    "OTEL_TRACES_EXPORTER": "carrier-pigeon",
}

_SECOND_CAPABILITY = '''

@runtime.capability("list-activities")
def list_activities(payload: dict[str, object]) -> dict[str, object]:
    """The activities with an emission factor."""
    return {"activities": sorted(EMISSION_FACTORS)}
'''


def test_generated_tests_pass_in_a_hostile_shell_after_a_second_capability(
    tmp_path: Path,
) -> None:
    """The generated tests pass whatever the shell exports, and after the author adds a capability.

    Before the fix the agent read ENVIRONMENT=prod at import (a collection error), waited
    on the dead DATABASE_URL (readiness 503) and the listing test wanted exactly one
    capability.
    """
    project = create_project(VALUES, tmp_path)
    agent = project / "cbam_calculator" / "agent.py"
    agent.write_text(agent.read_text() + _SECOND_CAPABILITY)
    status, output = _run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        project,
        env={**agent_env(), **_HOSTILE_SHELL},
    )
    assert status == 0, output
    assert "8 passed" in output


@pytest.mark.parametrize("name", ["cbam-calculator", "a" + "-b" * 31])
def test_generated_code_passes_ruff(tmp_path: Path, name: str) -> None:
    """`ruff check` and `ruff format --check` pass on the new project, even with a 63-char name."""
    project = create_project(
        ProjectValues(name, dependencies=("postgres",), llm_providers=("openai",)), tmp_path
    )
    for command in (["check"], ["format", "--check"]):
        status, output = _run([str(BIN / "ruff"), *command, "--no-cache", "."], project)
        assert status == 0, output


def test_dockerfile_passes_hadolint(project: Path) -> None:
    """hadolint reports nothing at all (style level included) on the generated Dockerfile."""
    hadolint = [str(BIN / "hadolint"), "--no-color", "--failure-threshold", "style"]
    status, output = _run([*hadolint, "--format", "json", "Dockerfile"], project)
    assert status == 0, output
    assert json.loads(output) == []
    # The check bites: the same file with pip's cache kept fails DL3042.
    text = (project / "Dockerfile").read_text()
    worse = project.parent / "Dockerfile.worse"
    worse.write_text(text.replace("pip install --no-cache-dir .", "pip install ."))
    status, output = _run([*hadolint, str(worse)], project)
    assert status == 1
    assert "DL3042" in output


def test_dockerfile_runs_as_uid_10001_in_exec_form_without_a_shell(project: Path) -> None:
    """The final stage runs as uid 10001 and starts `greenlang-runtime run` in exec form."""
    lines = (project / "Dockerfile").read_text().splitlines()
    final = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :]
    assert final[0] == "FROM python:3.11-slim"
    assert "USER 10001:10001" in final
    assert final[-2:] == ['ENTRYPOINT ["greenlang-runtime"]', 'CMD ["run"]']
    assert not [line for line in final if line.startswith(("RUN ", "SHELL "))]
    assert "EXPOSE 8000 9090" in final


def _served_requests(python: Path, cwd: Path) -> str:
    """Serve `run` (no argument) in ``cwd``, call once, stop; return the success counter's line."""
    port, metrics_port = free_port(), free_port()
    settings = {
        "GL_HTTP_HOST": "127.0.0.1",
        "GL_HTTP_PORT": str(port),
        "GL_METRICS_PORT": str(metrics_port),
    }
    process = subprocess.Popen(
        [str(python), "-m", "greenlang_runtime", "run"],
        cwd=cwd,
        env=agent_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    agent = ServedAgent(process, port, metrics_port)
    try:
        agent.wait_until("/health/ready")
        response = httpx2.post(
            agent.url + "/v1/capabilities/calculate-emissions",
            json={"activity": "diesel", "quantity": 100},
        )
        assert response.json()["kg_co2e"] == 268.0  # 100 litres x 2.68
        metrics = httpx2.get(agent.metrics_url).text
    finally:
        status, log = agent.stop()
    assert status == 0, log
    (line,) = [m for m in metrics.splitlines() if m.startswith("agent_requests_total{") and
               'status="success"' in m]  # fmt: skip
    return line


def test_run_without_argument_serves_the_project(project: Path) -> None:
    """`greenlang-runtime run` in the project directory serves its agent under its identity."""
    # Not installed here, so the version is the agent's fallback, 0.0.0.
    assert _served_requests(Path(sys.executable), project) == (
        'agent_requests_total{agent_id="cbam-calculator",capability="calculate-emissions",'
        'status="success",tenant_id="customer-abc-123",version="0.0.0"} 1.0'
    )


def test_the_images_layout_serves_without_the_source(project: Path, tmp_path: Path) -> None:
    """As in the image (project installed, only pyproject.toml in the work dir) it serves."""
    python = _fresh_venv(tmp_path / "venv", sysconfig.get_paths()["purelib"], str(ROOT))
    _pip_install(python, str(project))
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(project / "pyproject.toml", app / "pyproject.toml")
    assert _served_requests(python, app) == (
        'agent_requests_total{agent_id="cbam-calculator",capability="calculate-emissions",'
        'status="success",tenant_id="customer-abc-123",version="0.1.0"} 1.0'
    )


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed here")
def test_kubectl_kustomize_builds_every_overlay(project: Path) -> None:
    """Each overlay builds with `kubectl kustomize`, in the namespace <tenant>-dev|staging|prod."""
    for overlay, namespace in [
        ("development", "customer-abc-123-dev"),
        ("staging", "customer-abc-123-staging"),
        ("production", "customer-abc-123-prod"),
    ]:
        status, output = _run(["kubectl", "kustomize", f"deploy/overlays/{overlay}"], project)
        assert status == 0, output
        documents = [d for d in yaml.safe_load_all(output) if d]
        assert {d["metadata"].get("namespace") for d in documents} == {namespace}
        (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        # The image `docker build` in the README tags, and the Dockerfile's command.
        assert container["image"] == "registry.greenlang.io/customer-abc-123/cbam-calculator:0.1.0"
        assert "command" not in container
        assert "args" not in container


def test_manifests_check_finds_deploy_up_to_date(project: Path) -> None:
    """Right after `new`, `greenlang-runtime manifests --check` in the project reports no drift."""
    status, output = _run(
        [sys.executable, "-m", "greenlang_runtime", "manifests", "--check"], project
    )
    assert status == 0, output
    assert "up to date with the spec" in output


def test_the_init_containers_command_runs_in_the_project(project: Path) -> None:
    """The Deployment's init container command works against the project's own app."""
    deployment = yaml.safe_load((project / "deploy/base/deployment.yaml").read_text())
    (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
    assert init["command"][0] == "greenlang-runtime"
    command = [sys.executable, "-m", "greenlang_runtime", *init["command"][1:]]
    status, output = _run(command, project)  # no DATABASE_URL or REDIS_URL: nothing to wait for
    assert status == 0, output
    assert "No dependencies to wait for" in output


def test_editable_install_in_a_fresh_venv(project: Path, tmp_path: Path) -> None:
    """`pip install -e` into a new venv works; the agent then reports the installed version."""
    python = _fresh_venv(tmp_path / "venv", sysconfig.get_paths()["purelib"], str(ROOT))
    _pip_install(python, "-e", str(project))
    code = "from cbam_calculator.agent import runtime; print(runtime.identity.version)"
    status, output = _run([str(python), "-c", code], tmp_path)
    assert (status, output) == (0, "0.1.0\n")
    status, output = _run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert status == 0, output


def test_an_installed_wheel_scaffolds(tmp_path: Path) -> None:
    """A non-editable install of the wheel finds its templates inside the package."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(dist), str(ROOT)],
        check=True,
        timeout=300,
    )  # fmt: skip
    (wheel,) = dist.glob("greenlang_runtime-*.whl")
    # Only the dependencies are seen from this venv; the checkout is not on the path.
    python = _fresh_venv(tmp_path / "venv", sysconfig.get_paths()["purelib"])
    _pip_install(python, str(wheel))
    work = tmp_path / "work"
    work.mkdir()
    status, output = _run([str(python.parent / "greenlang-runtime"), "new", "solo"], work)
    assert status == 0, output
    # The next commands install the SDK from that very wheel, not from an index.
    assert f'.venv/bin/pip install {wheel} -e ".[test]"' in output
    assert (work / "solo" / "solo" / "agent.py").is_file()
    code = "from greenlang_runtime.scaffold._templates import template_root; print(template_root())"
    status, output = _run([str(python), "-c", code], work)
    site = next((tmp_path / "venv").glob("lib/python3.*/site-packages"))
    assert output == f"{site}/greenlang_runtime/templates/agent\n"
