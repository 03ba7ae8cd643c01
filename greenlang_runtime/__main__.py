"""``python -m greenlang_runtime``: the same as the ``greenlang-runtime`` command."""

from greenlang_runtime.cli import main

main()
