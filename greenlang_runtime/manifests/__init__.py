"""Kubernetes manifests rendered from the agent spec by typed builders, never templates.

Rendering imports no serving code: ports, probe paths and shutdown timings come
from :mod:`greenlang_runtime.config`, metric names from
:mod:`greenlang_runtime.metric_names`.
"""

from __future__ import annotations

from greenlang_runtime.manifests.layout import (
    environment_documents,
    render_stream,
    render_tree,
)

__all__ = ["environment_documents", "render_stream", "render_tree"]
