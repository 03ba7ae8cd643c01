"""From a spec to files: the kustomize base and overlays, or one multi-document stream.

The base is the production rendering without a namespace; each overlay sets
its namespace and patches (RFC 6902) exactly what its environment changes, so
``kubectl kustomize overlays/ENV`` builds what :func:`environment_documents` renders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import greenlang_runtime.manifests.autoscaling as autoscaling
import greenlang_runtime.manifests.core as core
import greenlang_runtime.manifests.dashboard as dashboard
import greenlang_runtime.manifests.delivery as delivery
import greenlang_runtime.manifests.monitoring as monitoring
import greenlang_runtime.manifests.network as network
import greenlang_runtime.manifests.promtool as promtool
import greenlang_runtime.manifests.tenancy as tenancy
import greenlang_runtime.manifests.workload as workload
from greenlang_runtime.config import ENVIRONMENTS
from greenlang_runtime.manifests._jsonpatch import diff
from greenlang_runtime.manifests._meta import Document
from greenlang_runtime.manifests._yaml import dump
from greenlang_runtime.manifests.files import headed
from greenlang_runtime.spec import AgentSpec, EnvironmentSpec

__all__ = [
    "BASE_ENVIRONMENT",
    "base_documents",
    "dump",
    "environment_documents",
    "platform_documents",
    "render_stream",
    "render_tenant_stream",
    "render_tenant_tree",
    "render_tree",
    "tenant_documents",
]

BASE_ENVIRONMENT = "production"
_KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}


def base_documents(env: EnvironmentSpec) -> list[tuple[str, Document]]:
    """Every namespaced object of ``env``, each with the file it is written to."""
    spec = env.agent
    documents: list[tuple[str, Document]] = [
        ("serviceaccount.yaml", core.service_account(env)),
        ("configmap.yaml", core.config_map(env)),
        ("service.yaml", core.service(env)),
    ]
    if spec.rollout == "blue-green":
        documents.append(("service-preview.yaml", core.preview_service(env)))
    if spec.rollout == "rolling":
        documents.append(("deployment.yaml", workload.deployment(env)))
    else:
        documents.append(("rollout.yaml", delivery.rollout(env)))
        documents.append(("analysistemplate.yaml", delivery.analysis_template(env)))
    documents += [
        ("hpa.yaml", autoscaling.hpa(env)),
        ("vpa.yaml", autoscaling.vpa(env)),
        ("pdb.yaml", autoscaling.pdb(env)),
        ("networkpolicy.yaml", network.network_policy(env)),
        ("servicemonitor.yaml", monitoring.service_monitor(env)),
        ("prometheusrule.yaml", monitoring.prometheus_rule(env)),
        ("dashboard.yaml", dashboard.dashboard(env)),
    ]
    return documents


def environment_documents(env: EnvironmentSpec) -> list[Document]:
    """The objects of ``env`` as applied: each in the environment's namespace."""
    return [_in_namespace(doc, env.namespace) for _, doc in base_documents(env)]


def platform_documents(spec: AgentSpec, environments: Sequence[str]) -> list[tuple[str, Document]]:
    """Objects outside the tenant's namespaces: adapter rules, Argo CD Applications."""
    production = spec.for_environment(BASE_ENVIRONMENT)
    documents = [
        (
            "platform/prometheus-adapter-rules.yaml",
            monitoring.adapter_rules(production, spec.monitoring_namespace),
        )
    ]
    if spec.argocd is not None:
        for name in environments:
            env = spec.for_environment(name)
            documents.append((f"platform/argocd-{name}.yaml", delivery.application(env)))
    return documents


def render_tree(
    spec: AgentSpec,
    environments: Sequence[str] = ENVIRONMENTS,
    patches: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, str]:
    """The ``deploy/`` files for ``environments``: relative path -> text, each headed.

    ``patches`` maps an environment to the author's patch files (relative to its
    overlay), which its kustomization applies after the environment's own.
    """
    base_env = spec.for_environment(BASE_ENVIRONMENT)
    base = base_documents(base_env)
    files = {f"base/{name}": dump([doc]) for name, doc in base}
    files["base/kustomization.yaml"] = dump(
        [{**_KUSTOMIZATION, "resources": [name for name, _ in base]}]
    )
    for name in environments:
        files.update(_overlay(spec.for_environment(name), base, (patches or {}).get(name, ())))
    for path, doc in platform_documents(spec, environments):
        files[path] = dump([doc])
    files["promtool/rules.yaml"] = dump([promtool.rules_file(spec)])
    files["promtool/rules.test.yaml"] = dump([promtool.rules_tests(spec)])
    for name, tests in promtool.slo_tests(spec).items():
        files[f"promtool/{name}"] = dump([tests])
    return {path: headed(text) for path, text in files.items()}


def render_stream(spec: AgentSpec, environments: Sequence[str] = ENVIRONMENTS) -> str:
    """Every object of ``environments`` (namespaced) and the platform's, as one stream."""
    documents: list[Document] = []
    for name in environments:
        documents += environment_documents(spec.for_environment(name))
    documents += [doc for _, doc in platform_documents(spec, environments)]
    return dump(documents)


def tenant_documents(specs: Sequence[AgentSpec], environment: str) -> list[tuple[str, Document]]:
    """The tenant namespace's ResourceQuota and LimitRange, sized for all of ``specs``.

    ``specs`` are every agent of one tenant; their order does not matter.
    """
    agents = [spec.for_environment(environment) for spec in sorted(specs, key=_agent_key)]
    return [
        ("resourcequota.yaml", tenancy.resource_quota(agents)),
        ("limitrange.yaml", tenancy.limit_range(agents)),
    ]


def render_tenant_tree(
    specs: Sequence[AgentSpec],
    environments: Sequence[str] = ENVIRONMENTS,
    patches: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, str]:
    """The tenant's ``overlays/<env>/`` files: its namespace objects, one kustomization each."""
    files: dict[str, str] = {}
    for name in environments:
        here = f"overlays/{name}"
        documents = tenant_documents(specs, name)
        kustomization: Document = {
            **_KUSTOMIZATION,
            "namespace": specs[0].namespace(name),
            "resources": [path for path, _ in documents],
        }
        own = sorted((patches or {}).get(name, ()))
        if own:
            kustomization["patches"] = [{"path": path} for path in own]
        files[f"{here}/kustomization.yaml"] = dump([kustomization])
        files.update({f"{here}/{path}": dump([doc]) for path, doc in documents})
    return {path: headed(text) for path, text in files.items()}


def render_tenant_stream(specs: Sequence[AgentSpec], environments: Sequence[str]) -> str:
    """The tenant's namespace objects of ``environments``, namespaced, as one stream."""
    documents = [
        _in_namespace(doc, specs[0].namespace(name))
        for name in environments
        for _, doc in tenant_documents(specs, name)
    ]
    return dump(documents)


def _agent_key(spec: AgentSpec) -> str:
    return spec.agent_id


def _overlay(
    env: EnvironmentSpec, base: list[tuple[str, Document]], own: Sequence[str]
) -> dict[str, str]:
    here = f"overlays/{env.environment}"
    files: dict[str, str] = {}
    patches: list[Document] = []
    # The file set depends only on spec-wide keys, so base and env line up.
    for (name, before), (_, after) in zip(base, base_documents(env), strict=True):
        operations = diff(before, after)
        if not operations:
            continue
        patch_name = name.replace(".yaml", ".patch.yaml")
        files[f"{here}/{patch_name}"] = dump([operations])
        patches.append({"path": patch_name, "target": _target(before)})
    # The author's strategic-merge patches name their target themselves
    # (apiVersion, kind, metadata.name) and come last, so they win.
    patches += [{"path": path} for path in sorted(own)]
    kustomization: Document = {
        **_KUSTOMIZATION,
        "namespace": env.namespace,
        "resources": ["../../base"],
    }
    if patches:
        kustomization["patches"] = patches
    files[f"{here}/kustomization.yaml"] = dump([kustomization])
    return files


def _target(doc: Document) -> Document:
    group, _, version = doc["apiVersion"].rpartition("/")
    target = {"version": version, "kind": doc["kind"], "name": doc["metadata"]["name"]}
    return {"group": group, **target} if group else target


def _in_namespace(doc: Document, namespace: str) -> Document:
    meta = {"name": doc["metadata"]["name"], "namespace": namespace}
    meta.update((k, v) for k, v in doc["metadata"].items() if k != "name")
    return {**doc, "metadata": meta}
