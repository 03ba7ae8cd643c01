#!/bin/sh
# `make demo`: serve examples/cbam_calculator with nothing configured.
#
# Usage: scripts/demo.sh VENV_BIN   (run from the repository's root)
#
# The ports printed are the ones the runtime will listen on (GL_HTTP_PORT and
# GL_METRICS_PORT apply), read from the runtime's own settings. The server
# replaces this shell (exec), so Ctrl+C reaches it alone: it drains and exits 0,
# and make sees a recipe that succeeded rather than one killed by a signal.
set -eu
bin=$(cd "${1:?usage: scripts/demo.sh VENV_BIN}" && pwd)
# An invalid setting prints nothing here: `run` below reports it in one line.
ports=$("$bin/python" -c 'from greenlang_runtime.config import Settings
s = Settings.from_env()
print(s.http_port, s.metrics_port)' 2>/dev/null) || ports=""
if [ -n "$ports" ]; then
    http_port=${ports% *}
    metrics_port=${ports#* }
    echo "Serving examples/cbam_calculator: API on :$http_port, metrics on :$metrics_port (Ctrl+C drains and stops)."
    echo "Try, in another terminal:"
    sed -n 's/^\$ \(curl .*\)/  \1/p' examples/cbam_calculator/README.md |
        sed "s/localhost:8000/localhost:$http_port/; s/localhost:9090/localhost:$metrics_port/"
fi
cd examples/cbam_calculator
exec "$bin/greenlang-runtime" run
