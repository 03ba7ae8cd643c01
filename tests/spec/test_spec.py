"""The agent spec: defaults, per-environment overrides, and one-line errors naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from greenlang_runtime.cli import main
from greenlang_runtime.exceptions import SpecError
from greenlang_runtime.spec import AgentSpec, Resources, Scaling, Slo, load_spec, project_app

MINIMAL = '[project]\nname = "cbam-calculator"\nversion = "0.1.0"\n'


def _spec(**table: Any) -> AgentSpec:
    return AgentSpec.from_table(
        {"tenant": "acme", **table}, name="cbam-calculator", version="1.2.3"
    )


def test_defaults_of_a_minimal_table(tmp_path: Path) -> None:
    """A table with only the tenant takes every documented default."""
    (tmp_path / "pyproject.toml").write_text(
        MINIMAL + '[tool.greenlang-runtime]\ntenant = "acme"\n'
    )
    spec = load_spec(tmp_path)
    assert (spec.agent_id, spec.version, spec.tenant, spec.app) == (
        "cbam-calculator",
        "0.1.0",
        "acme",
        None,
    )
    assert spec.image == "registry.greenlang.io/acme/cbam-calculator"
    assert spec.registry_entry == "https://registry.greenlang.io/agents/cbam-calculator/0.1.0"
    assert spec.resources == Resources("250m", "1", "256Mi", "512Mi")
    assert spec.scaling == Scaling(2, 10, 70, 80, 50.0, 5.0)
    assert spec.slo == Slo(99.9, 1.0, 1.0)
    assert (spec.dependencies, spec.llm_providers, spec.rollout) == ((), (), "rolling")
    assert (spec.tenant_quota, spec.node_pool, spec.argocd) == (False, "agents", None)


def test_agent_id_defaults_to_the_project_name_as_a_label() -> None:
    """[project].name cbam_Calculator.v2 becomes the agent id cbam-calculator-v2."""
    spec = AgentSpec.from_table({"tenant": "acme"}, name="cbam_Calculator.v2", version="1")
    assert spec.agent_id == "cbam-calculator-v2"


def test_sla_tier_sets_the_slo_and_the_slo_table_overrides_it() -> None:
    """premium means 99.99 % / 0.5 s / 0.5 %; an slo key replaces just that threshold."""
    assert _spec(**{"sla-tier": "premium"}).slo == Slo(99.99, 0.5, 0.5)
    assert _spec(**{"sla-tier": "basic", "slo": {"p95-latency-seconds": 0.1}}).slo == Slo(
        99.0, 0.1, 5.0
    )


def test_environment_overrides_merge_into_the_defaults() -> None:
    """Production's min-replicas and digest apply there; development keeps its own bounds."""
    digest = "sha256:" + "ab" * 32
    spec = _spec(
        scaling={"min-replicas": 2, "max-replicas": 8},
        environments={
            "development": {"min-replicas": 1, "max-replicas": 2, "cpu-request": "100m"},
            "production": {"min-replicas": 3, "image-digest": digest},
        },
    )
    production = spec.for_environment("production")
    assert (production.scaling.min_replicas, production.scaling.max_replicas) == (3, 8)
    assert production.namespace == "acme-prod"
    assert production.image == f"registry.greenlang.io/acme/cbam-calculator@{digest}"
    development = spec.for_environment("development")
    assert (development.scaling.min_replicas, development.scaling.max_replicas) == (1, 2)
    assert development.resources.cpu_request == "100m"
    assert development.image == "registry.greenlang.io/acme/cbam-calculator:1.2.3"
    staging = spec.for_environment("staging")
    assert (staging.namespace, staging.scaling.min_replicas) == ("acme-staging", 2)


BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"tenant": "Acme"}, "tenant='Acme' is invalid: it must be a DNS-1123 label"),
    ({"tenant": "a" * 56}, "it must be at most 55 characters long"),
    ({"tenant": 7}, "tenant=7 is invalid: it must be a string"),
    ({"agent-id": "cbam_calc"}, "agent-id='cbam_calc' is invalid: it must be a DNS-1123 label"),
    ({"app": "agent"}, "app='agent' is invalid: it must have the form MODULE:ATTR"),
    ({"lifecycle-state": "not ok"}, "lifecycle-state='not ok' is invalid: it must be a Kubernetes"),
    ({"registry": "Registry.io"}, "registry='Registry.io' is invalid: it must be an image"),
    ({"image": "reg.io/team/agent:1.0"}, "image='reg.io/team/agent:1.0' is invalid"),
    ({"image-digest": "sha256:abc"}, "image-digest='sha256:abc' is invalid: it must be empty or"),
    (
        {"registry-url": "http://reg.io"},
        "registry-url='http://reg.io' is invalid: it must be a URL",
    ),
    ({"registry-url": "https://"}, "registry-url='https://' is invalid: it names no host"),
    (
        {"sla-tier": "gold"},
        "sla-tier='gold' is invalid: it must be one of basic, standard, premium",
    ),
    ({"slo": {"availability-percent": 100}}, "slo.availability-percent=100 is invalid"),
    ({"slo": {"availability-percent": 90}}, "it must be at least 95 and below 100"),
    ({"slo": {"p95-latency-seconds": 11}}, "slo.p95-latency-seconds=11 is invalid"),
    (
        {"slo": {"p95-latency-seconds": 0.25}},
        "slo.p95-latency-seconds=0.25 is invalid: it must be a bucket bound of "
        "agent_request_duration_seconds: 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10",
    ),
    ({"costs": {"cpu-hour-usd": -1}}, "costs.cpu-hour-usd=-1 is invalid"),
    ({"costs": {"gpu-hour-usd": 1}}, "costs.gpu-hour-usd=1 is invalid: it is not a key"),
    ({"slo": {"error-rate-percent": 0}}, "slo.error-rate-percent=0 is invalid"),
    ({"slo": {"error-rate-percent": 100}}, "it must be below 100"),
    ({"slo": {"latency": 1}}, "slo.latency=1 is invalid: it is not a key of this table"),
    ({"data-residency": "eu central"}, "data-residency='eu central' is invalid"),
    ({"dependencies": ["mysql"]}, "'mysql' is not one of postgres, redis"),
    ({"dependencies": ["redis", "redis"]}, "it names the same item twice"),
    ({"dependencies": "redis"}, "dependencies='redis' is invalid: it must be a list of"),
    ({"llm-providers": ["gemini"]}, "'gemini' is not one of anthropic, openai"),
    ({"rollout": "recreate"}, "rollout='recreate' is invalid: it must be one of rolling, canary"),
    ({"tenant-quota": "yes"}, "tenant-quota='yes' is invalid: it must be true or false"),
    ({"node-pool": "-agents"}, "node-pool='-agents' is invalid"),
    ({"ingress-namespace": "Ingress"}, "ingress-namespace='Ingress' is invalid"),
    ({"monitoring-namespace": ""}, "monitoring-namespace='' is invalid"),
    ({"prometheus-url": "prometheus:9090"}, "prometheus-url='prometheus:9090' is invalid"),
    ({"argocd": {"path": "deploy"}}, "argocd.repo-url=None is invalid: it is required"),
    ({"argocd": {"repo-url": "repo"}}, "argocd.repo-url='repo' is invalid: it must be a Git URL"),
    ({"argocd": {"repo-url": "git@h:r.git", "path": "../x"}}, "argocd.path='../x' is invalid"),
    ({"argocd": {"repo-url": "git@h:r.git", "target-revision": "a b"}}, "target-revision='a b'"),
    ({"argocd": {"repo-url": "git@h:r.git", "project": "P"}}, "argocd.project='P' is invalid"),
    (
        {"resources": {"memory-limit": "2Gb"}},
        "resources.memory-limit='2Gb' is invalid: "
        "it must be a Kubernetes quantity such as 512Mi or 2Gi",
    ),
    (
        {"resources": {"cpu-request": "half"}},
        "resources.cpu-request='half' is invalid: "
        "it must be a Kubernetes quantity such as 500m or 2",
    ),
    (
        {"resources": {"cpu-request": "0"}},
        "resources.cpu-request='0' is invalid: it must be at least 1m",
    ),
    ({"resources": {"memory-request": "512k"}}, "it must be at least 1Mi"),
    (
        {"resources": {"memory-limit": "9" * 5000}},
        f"resources.memory-limit='{'9' * 32}... (5000 characters)' is invalid: "
        "it must be a Kubernetes quantity of at most 32 characters, such as 512Mi or 2Gi",
    ),
    (
        {"resources": {"memory-limit": "1e400"}},
        "resources.memory-limit='1e400' is invalid: it must be at most 1Ei",
    ),
    ({"resources": {"memory-limit": "2Ei"}}, "memory-limit='2Ei' is invalid: it must be at most"),
    ({"resources": {"cpu-limit": "1e999999999"}}, "cpu-limit='1e999999999' is invalid: it must"),
    ({"resources": {"cpu-request": "1e-400"}}, "cpu-request='1e-400' is invalid: it must be at"),
    ({"resources": {"cpu-limit": "2e6"}}, "cpu-limit='2e6' is invalid: it must be at most 1M"),
    ({"resources": {"cpu-limit": "２"}}, "cpu-limit='２' is invalid: it must be a Kubernetes"),
    (
        {"resources": {"cpu-limit": "200m"}},
        "resources.cpu-limit='200m' is invalid: it must be at least cpu-request (250m)",
    ),
    ({"resources": {"memory": "1Gi"}}, "resources.memory='1Gi' is invalid: it is not a key"),
    (
        {"scaling": {"min-replicas": 0}},
        "scaling.min-replicas=0 is invalid: it must be a whole number from 1 to 1000",
    ),
    ({"scaling": {"min-replicas": 2.5}}, "scaling.min-replicas=2.5 is invalid"),
    ({"scaling": {"max-replicas": True}}, "scaling.max-replicas=True is invalid"),
    (
        {"scaling": {"min-replicas": 5, "max-replicas": 3}},
        "scaling.min-replicas=5 is invalid: it must be at most max-replicas (3)",
    ),
    (
        {"scaling": {"target-cpu-percent": 120}},
        "scaling.target-cpu-percent=120 is invalid: it must be a whole number from 1 to 100",
    ),
    ({"scaling": {"target-memory-percent": 0}}, "scaling.target-memory-percent=0 is invalid"),
    (
        {"scaling": {"target-requests-per-second": 0}},
        "scaling.target-requests-per-second=0 is invalid: it must be a number above 0",
    ),
    ({"scaling": {"target-queue-depth": "5"}}, "scaling.target-queue-depth='5' is invalid"),
    (
        {"environments": {"qa": {}}},
        "environments.qa={} is invalid: "
        "it is not a key of this table (known: development, staging, production)",
    ),
    (
        {"environments": {"production": {"min-replicas": 20}}},
        "environments.production.min-replicas=20 is invalid: it must be at most max-replicas (10)",
    ),
    (
        {"environments": {"staging": {"tenant": "x"}}},
        "environments.staging.tenant='x' is invalid: it is not a key",
    ),
    (
        {"environments": {"staging": {"image-digest": "latest"}}},
        "environments.staging.image-digest='latest' is invalid",
    ),
    (
        {"environments": {"development": {"memory-limit": "64Mi"}}},
        "environments.development.memory-limit='64Mi' is invalid: "
        "it must be at least memory-request (256Mi)",
    ),
    ({"replicas": 3}, "replicas=3 is invalid: it is not a key of this table"),
]


@pytest.mark.parametrize(("table", "message"), BAD_FIELDS)
def test_bad_values_fail_in_one_line_naming_the_field(
    tmp_path: Path, table: dict[str, Any], message: str
) -> None:
    """Every invalid field fails with one line: the file, the field, the value and why."""
    with pytest.raises(SpecError) as caught:
        AgentSpec.from_table({"tenant": "acme", **table}, name="a", version="1", source="p.toml")
    text = str(caught.value)
    assert text.startswith("p.toml [tool.greenlang-runtime] ")
    assert message in text
    assert "\n" not in text


def test_tenant_is_required() -> None:
    """A table without a tenant names the missing key."""
    with pytest.raises(SpecError, match=r"tenant=None is invalid: it is required"):
        AgentSpec.from_table({}, name="a", version="1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "it has no [tool.greenlang-runtime] table"),
        ("[tool\n", "it cannot be read: "),
        ('[project]\nversion = "1"\n[tool.greenlang-runtime]\ntenant = "a"\n', "sets no name"),
        ('[project]\nname = "a"\n[tool.greenlang-runtime]\ntenant = "a"\n', "sets no version"),
        (
            '[project]\nname = "a"\nversion = "1.0+local"\n'
            '[tool.greenlang-runtime]\ntenant = "a"\n',
            "[project] version='1.0+local' is invalid: it must be a Kubernetes label value",
        ),
        ('tool = {greenlang-runtime = "x"}\n', "[tool.greenlang-runtime] must be a table"),
    ],
)
def test_file_level_problems_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    """A missing table, unreadable TOML or a missing [project] key names pyproject.toml."""
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'pyproject.toml'}: ")
    assert message in str(caught.value)


def test_project_app_is_none_without_an_app_key(tmp_path: Path) -> None:
    """A spec table without `app` gives run nothing to serve, not an error."""
    (tmp_path / "pyproject.toml").write_text(MINIMAL + '[tool.greenlang-runtime]\ntenant = "a"\n')
    assert project_app(tmp_path) is None


def test_missing_pyproject_is_named(tmp_path: Path) -> None:
    """Without a pyproject.toml the error names the file and the directory it looked in."""
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path)
    assert str(caught.value) == f"pyproject.toml: there is no such file in {tmp_path}."


def test_missing_pyproject_in_a_relative_directory_names_it_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looking in "." the message still says which directory that was."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as caught:
        load_spec(Path())
    assert str(caught.value) == f"pyproject.toml: there is no such file in {tmp_path}."


def test_accepted_quantities_keep_their_amount() -> None:
    """Signed, exponent and boundary quantities are read as Kubernetes reads them."""
    table = {
        "tenant": "acme",
        "resources": {
            "cpu-request": "+250m",
            "cpu-limit": "1e6",
            "memory-request": "0.5e9",
            "memory-limit": "1Ei",
        },
    }
    resources = AgentSpec.from_table(table, name="a", version="1").resources
    assert (resources.cpu_limit, resources.memory_limit) == ("1e6", "1Ei")
    assert (resources.cpu_request, resources.memory_request) == ("+250m", "0.5e9")


def test_run_reads_app_through_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` with no target rejects a malformed app with the spec's one-line error."""
    (tmp_path / "pyproject.toml").write_text('[tool.greenlang-runtime]\napp = "agent"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 2
    assert "app='agent' is invalid: it must have the form MODULE:ATTR" in result.output
    assert result.output.count("\n") == 1
