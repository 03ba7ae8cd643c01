"""How the running SDK was installed, and the pip line that installs a new project the same way.

A new project depends on ``greenlang-runtime``; ``pip install -e ".[test]"`` fetches it
from the package index, which fails where the SDK came from a checkout, a wheel file
or a VCS URL the index does not have. pip records where a distribution came from in
its ``direct_url.json`` (PEP 610); no such file means it came from an index.
"""

from __future__ import annotations

import json
import shlex
from importlib import metadata
from urllib.parse import unquote, urlsplit

__all__ = ["DISTRIBUTION", "install_command", "sdk_source"]

DISTRIBUTION = "greenlang-runtime"
_PROJECT = '-e ".[test]"'


def _path(url: str) -> str:
    """The local path of a ``file://`` URL."""
    return unquote(urlsplit(url).path)


def sdk_source(distribution: metadata.Distribution | None = None) -> str | None:
    """What pip needs to install the SDK as it is installed here, or ``None`` for an index.

    ``-e /path/to/checkout`` for an editable checkout, the path of a local wheel or
    directory, ``git+https://...@commit`` for a VCS install, the URL of a remote archive.
    """
    if distribution is None:
        try:
            distribution = metadata.distribution(DISTRIBUTION)
        except metadata.PackageNotFoundError:
            return None
    text = distribution.read_text("direct_url.json")
    if not text:
        return None
    record = json.loads(text)
    url = str(record.get("url", ""))
    if not url:
        return None
    vcs = record.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id") or vcs.get("requested_revision")
        return shlex.quote(f"{vcs.get('vcs', 'git')}+{url}{f'@{commit}' if commit else ''}")
    local = url.startswith("file:")
    where = shlex.quote(_path(url) if local else url)
    dir_info = record.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable"):
        return f"-e {where}"
    return where


def install_command(pip: str, distribution: metadata.Distribution | None = None) -> str:
    """The command that installs a new project and its test tools with ``pip``.

    The SDK is named first when it did not come from an index, so pip takes it from
    there instead of looking for ``greenlang-runtime`` on the index.
    """
    source = sdk_source(distribution)
    return f"{pip} install {source} {_PROJECT}" if source else f"{pip} install {_PROJECT}"
