"""The ``manifests`` command: render from the spec, then write, print or check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from greenlang_runtime._bad_input import BadInput
from greenlang_runtime.config import ENVIRONMENTS
from greenlang_runtime.exceptions import GreenlangRuntimeError

if TYPE_CHECKING:
    from greenlang_runtime.spec import AgentSpec

__all__ = ["manifests"]


@click.command()
@click.option(
    "--project",
    "projects",
    metavar="DIR",
    multiple=True,
    help="The project whose pyproject.toml holds the agent spec [default: .]; "
    "with --tenant, give every agent of the tenant, one --project each.",
)
@click.option(
    "--environment",
    metavar="|".join(ENVIRONMENTS),
    help="Only this environment's overlay (and the base) [default: all three].",
)
@click.option(
    "--output",
    metavar="DIR or -",
    help="Where to write [default: PROJECT/deploy, with --tenant ./tenant-TENANT]; "
    "- prints one multi-document stream.",
)
@click.option(
    "--tenant",
    is_flag=True,
    help="Render the tenant namespace's ResourceQuota and LimitRange, sized for every "
    "--project given, instead of an agent.",
)
@click.option("--check", is_flag=True, help="Exit 1, naming the files, if they differ.")
@click.option("--diff", is_flag=True, help="With --check: print the differences as a unified diff.")
def manifests(
    projects: tuple[str, ...],
    environment: str | None,
    output: str | None,
    tenant: bool,
    check: bool,
    diff: bool,
) -> None:
    """Render the Kubernetes manifests from [tool.greenlang-runtime].

    Writes a kustomize base, the development, staging and production overlays,
    the platform's objects and the promtool rule tests, and prints each file it
    wrote or removed. Files it did not generate are never rewritten or removed;
    the patches in overlays/ENV/patches/ are applied by that overlay.
    """
    projects = projects or (".",)
    environments = _checked_options(projects, environment, output, tenant, check, diff)
    try:
        specs = _load_specs(projects, tenant)
        if output == "-":
            click.echo(_stream(specs, environments, tenant), nl=False)
            return
        if tenant:
            root = Path(output or f"tenant-{specs[0].tenant}")
        else:
            root = Path(output) if output else Path(projects[0]) / "deploy"
        _render_into(root, specs, environments, tenant, check, diff)
    except GreenlangRuntimeError as error:
        raise BadInput(str(error)) from None
    if not tenant and specs[0].tenant_quota and not check:
        click.echo(
            "tenant-quota = true: the namespace's ResourceQuota and LimitRange belong to the "
            "tenant; render them once for all its agents with "
            "greenlang-runtime manifests --tenant --project DIR --project DIR ..."
        )


def _checked_options(
    projects: tuple[str, ...],
    environment: str | None,
    output: str | None,
    tenant: bool,
    check: bool,
    diff: bool,
) -> tuple[str, ...]:
    """The environments to render, once every option is checked (one line per mistake)."""
    # Checked here rather than by click, so that every mistake is one line.
    if environment is not None and environment not in ENVIRONMENTS:
        raise BadInput(
            f"--environment={environment!r} is invalid: it must be one of "
            f"{', '.join(ENVIRONMENTS)}."
        )
    if len(projects) > 1 and not tenant:
        raise BadInput(
            f"--project is given {len(projects)} times: render one agent at a time "
            "(several only with --tenant)."
        )
    for project in projects:
        if not Path(project).is_dir():
            raise BadInput(f"--project={project!r} is invalid: it is not a directory.")
    if output == "":
        raise BadInput("--output='' is invalid: give a directory, or - for standard output.")
    if output == "-" and check:
        raise BadInput("--check compares files on disk: it cannot be used with --output -.")
    if diff and not check:
        raise BadInput("--diff shows what --check finds: use it as --check --diff.")
    return (environment,) if environment else ENVIRONMENTS


def _load_specs(projects: tuple[str, ...], tenant: bool) -> list[AgentSpec]:
    """Each project's spec; with ``--tenant`` they must all name the same tenant."""
    from greenlang_runtime.spec import load_spec

    specs = [load_spec(Path(project)) for project in projects]
    for project, spec in zip(projects, specs, strict=True):
        if spec.tenant != specs[0].tenant:
            raise BadInput(
                f"--project={project!r} is invalid with --tenant: its tenant is "
                f"{spec.tenant!r}, not {specs[0].tenant!r} like {projects[0]!r}."
            )
    return specs


def _stream(specs: list[AgentSpec], environments: Sequence[str], tenant: bool) -> str:
    """The agent's (or the tenant's) objects as one multi-document stream."""
    from greenlang_runtime.manifests.layout import render_stream, render_tenant_stream

    if tenant:
        return render_tenant_stream(specs, environments)
    return render_stream(specs[0], environments)


def _render_into(
    root: Path,
    specs: list[AgentSpec],
    environments: Sequence[str],
    tenant: bool,
    check: bool,
    diff: bool,
) -> None:
    """Render the tree (the author's patches kept) and compare it with ``root`` or write it."""
    from greenlang_runtime.manifests.files import author_patches
    from greenlang_runtime.manifests.layout import render_tenant_tree, render_tree

    patches = {name: author_patches(root, name) for name in environments}
    if tenant:
        files = render_tenant_tree(specs, environments, patches)
    else:
        files = render_tree(specs[0], environments, patches)
    if check:
        _check(root, files, environments, diff)
    else:
        _write(root, files, environments, patches)


def _check(root: Path, files: Mapping[str, str], environments: Sequence[str], diff: bool) -> None:
    from greenlang_runtime.manifests.files import differences

    drift, unified = differences(root, files, environments, diff=diff)
    click.echo(unified, nl=False)
    for line in drift:
        click.echo(line, err=True)
    if drift:
        raise SystemExit(1)
    click.echo(f"{root}: up to date with the spec.")


def _write(
    root: Path,
    files: Mapping[str, str],
    environments: Sequence[str],
    patches: Mapping[str, Sequence[str]],
) -> None:
    from greenlang_runtime.manifests.files import Conflict, update_tree

    try:
        done = update_tree(root, files, environments)
    except Conflict as conflict:
        for line in conflict.lines:
            click.echo(line, err=True)
        click.echo(
            f"Nothing written: the {len(conflict.lines)} file(s) above are not as manifests "
            "rendered them. Move your changes into overlays/ENV/patches/ "
            "(see docs/manifests.md), delete those files, and render again.",
            err=True,
        )
        raise SystemExit(1) from None
    for relative in done.written:
        click.echo(f"wrote    {root / relative}")
    for relative in done.removed:
        click.echo(f"removed  {root / relative}")
    for relative in done.kept:
        click.echo(f"kept     {root / relative} (no longer rendered, but edited since)")
    for relative in done.ignored:
        click.echo(
            f"ignored  {root / relative} (yours: left alone, but no kustomization lists it; "
            "a patch goes in overlays/<env>/patches/)"
        )
    applied = [f"overlays/{name}/{path}" for name in environments for path in patches[name]]
    summary = (
        f"{root}: {len(done.written)} written, {len(done.removed)} removed, "
        f"{done.unchanged} unchanged"
    )
    if applied:
        summary += f"; your patches applied: {', '.join(applied)}"
    click.echo(summary + ".")
