#!/usr/bin/env bash
# `npm run bench` entry point: installs the peers if needed, then runs the harness.
#   npm run bench                       small corpus, everything (ours marked "not built" without dist/cli.js)
#   npm run bench -- --preset large --reps 1
#   npm run bench -- --preset tiny --reps 1 --groups peers   (harness self-test)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ZARRIO_VENV:-/root/.cache/zarrio/venv}"
bash "$here/setup.sh"
exec "$venv/bin/python" "$here/run.py" "$@"
