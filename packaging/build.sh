#!/usr/bin/env bash
# Builds the sdist and the wheel into dist/ and checks them with twine.
#   packaging/build.sh            (uses .venv/bin/python; `make test` creates it)
#   PYTHON=python3 packaging/build.sh
# The wheel carries the service files as package data (nxuskitd/units/); the sdist also
# has them at the top level (systemd/, launchd/) for distribution packagers.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
if ! "$PYTHON" -c "import build, twine" 2>/dev/null; then
    echo "build.sh: $PYTHON lacks build and twine: pip install -e '.[dev]'" >&2
    exit 1
fi
rm -rf dist
"$PYTHON" -m build --outdir dist .
"$PYTHON" -m twine check --strict dist/*
ls -l dist
