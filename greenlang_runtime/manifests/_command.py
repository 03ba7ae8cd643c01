"""The ``manifests`` command: render from the spec, then write, print or check."""

from __future__ import annotations

from pathlib import Path

import click

from greenlang_runtime._bad_input import BadInput
from greenlang_runtime.config import ENVIRONMENTS
from greenlang_runtime.exceptions import GreenlangRuntimeError

__all__ = ["manifests"]


@click.command()
@click.option(
    "--project",
    metavar="DIR",
    default=".",
    show_default=True,
    help="The project whose pyproject.toml holds the agent spec.",
)
@click.option(
    "--environment",
    metavar="|".join(ENVIRONMENTS),
    help="Only this environment's overlay (and the base) [default: all three].",
)
@click.option(
    "--output",
    metavar="DIR or -",
    help="Where to write [default: PROJECT/deploy]; - prints one multi-document stream.",
)
@click.option("--check", is_flag=True, help="Exit 1, naming the files, if they differ.")
def manifests(project: str, environment: str | None, output: str | None, check: bool) -> None:
    """Render the Kubernetes manifests from [tool.greenlang-runtime].

    Writes a kustomize base, the development, staging and production overlays,
    the platform's objects and the promtool rule tests.
    """
    from greenlang_runtime.manifests.files import differences, write_tree
    from greenlang_runtime.manifests.layout import render_stream, render_tree
    from greenlang_runtime.spec import load_spec

    # Checked here rather than by click, so that every mistake is one line.
    if environment is not None and environment not in ENVIRONMENTS:
        raise BadInput(
            f"--environment={environment!r} is invalid: it must be one of "
            f"{', '.join(ENVIRONMENTS)}."
        )
    if not Path(project).is_dir():
        raise BadInput(f"--project={project!r} is invalid: it is not a directory.")
    environments = (environment,) if environment else ENVIRONMENTS
    if output == "":
        raise BadInput("--output='' is invalid: give a directory, or - for standard output.")
    if output == "-" and check:
        raise BadInput("--check compares files on disk: it cannot be used with --output -.")
    try:
        spec = load_spec(Path(project))
        if output == "-":
            click.echo(render_stream(spec, environments), nl=False)
            return
        root = Path(output) if output else Path(project) / "deploy"
        files = render_tree(spec, environments)
        if check:
            drift = differences(root, files, environments)
            for line in drift:
                click.echo(line, err=True)
            if drift:
                raise SystemExit(1)
            click.echo(f"{root}: up to date with the spec.")
            return
        write_tree(root, files, environments)
    except GreenlangRuntimeError as error:
        raise BadInput(str(error)) from None
    click.echo(f"Wrote {len(files)} files to {root}.")
