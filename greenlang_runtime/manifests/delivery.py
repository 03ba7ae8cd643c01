"""Progressive delivery and GitOps: Argo Rollouts (canary, blue-green) and Argo CD."""

from __future__ import annotations

from greenlang_runtime.manifests._meta import Document, metadata, platform_annotations, selector
from greenlang_runtime.manifests.slo import sli_rates, slis
from greenlang_runtime.manifests.workload import pod_template
from greenlang_runtime.spec import EnvironmentSpec

__all__ = ["CANARY_WEIGHTS", "analysis_template", "application", "rollout"]

CANARY_WEIGHTS = (5, 25, 50, 100)
_PAUSE = "5m"
_HASH_ARG = "canary-hash"


def rollout(env: EnvironmentSpec) -> Document:
    """An Argo Rollout in place of the Deployment, with the same pod template."""
    spec = env.agent
    analysis = {
        "templates": [{"templateName": _analysis_name(env)}],
        "args": [
            {"name": "namespace", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": _HASH_ARG, "valueFrom": {"podTemplateHashValue": "Latest"}},
        ],
    }
    if spec.rollout == "canary":
        steps: list[Document] = []
        for weight in CANARY_WEIGHTS:
            steps.append({"setWeight": weight})
            if weight < 100:
                steps.append({"pause": {"duration": _PAUSE}})
        strategy: Document = {
            "canary": {
                "maxSurge": 1,
                "maxUnavailable": 0,
                # Checked all along the way: a failed measurement aborts and rolls back.
                "analysis": {**analysis, "startingStep": 1},
                "steps": steps,
            }
        }
    else:
        strategy = {
            "blueGreen": {
                "activeService": spec.agent_id,
                "previewService": f"{spec.agent_id}-preview",
                "autoPromotionEnabled": True,
                "prePromotionAnalysis": analysis,
                "scaleDownDelaySeconds": 30,
            }
        }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": metadata(spec, annotations=platform_annotations(spec)),
        "spec": {
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": selector(spec)},
            "template": pod_template(env),
            "strategy": strategy,
        },
    }


def _analysis_name(env: EnvironmentSpec) -> str:
    return f"{env.agent.agent_id}-slo"


def analysis_template(env: EnvironmentSpec) -> Document:
    """The new pods' error and slow-request ratios against the SLO's budgets, once a minute.

    The same SLIs as the burn alerts (:func:`~greenlang_runtime.manifests.slo.sli_rates`):
    a canary fails when it spends its budget faster than the SLO allows.
    """
    spec = env.agent
    new_pods = (
        f'namespace="{{{{args.namespace}}}}", agent_id="{spec.agent_id}", '
        f'rollouts_pod_template_hash="{{{{args.{_HASH_ARG}}}}}"'
    )
    provider = {"address": spec.prometheus_url}
    metrics = []
    for sli in slis(spec):
        bad, total = sli_rates(spec, sli, new_pods, "2m", "namespace")
        # No traffic yet gives no sample: count that as a pass, not an error.
        query = f"(\n{bad}\n)\n/\n(\n{total}\n)\nor on() vector(0)"
        metrics.append(
            {
                "name": f"{sli.key}-ratio",
                "interval": "1m",
                "failureLimit": 2,
                "successCondition": f"result[0] <= {sli.budget:.6g}",
                "provider": {"prometheus": {**provider, "query": query}},
            }
        )
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": metadata(spec, _analysis_name(env)),
        "spec": {"args": [{"name": "namespace"}, {"name": _HASH_ARG}], "metrics": metrics},
    }


def application(env: EnvironmentSpec) -> Document:
    """The Argo CD Application syncing this environment's overlay into its namespace."""
    spec = env.agent
    assert spec.argocd is not None
    meta = metadata(spec, f"{spec.agent_id}-{env.namespace}", namespace="argocd")
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": meta,
        "spec": {
            "project": spec.argocd.project,
            "source": {
                "repoURL": spec.argocd.repo_url,
                "targetRevision": spec.argocd.target_revision,
                "path": f"{spec.argocd.path}/overlays/{env.environment}",
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": env.namespace},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True, "allowEmpty": False},
                "syncOptions": ["CreateNamespace=true"],
                "retry": {
                    "limit": 5,
                    "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"},
                },
            },
            # The HPA owns the replica count.
            "ignoreDifferences": [
                {
                    "group": "apps",
                    "kind": "Deployment",
                    "name": spec.agent_id,
                    "jsonPointers": ["/spec/replicas"],
                },
                {
                    "group": "argoproj.io",
                    "kind": "Rollout",
                    "name": spec.agent_id,
                    "jsonPointers": ["/spec/replicas"],
                },
            ],
        },
    }
