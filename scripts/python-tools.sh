#!/usr/bin/env bash
# Installs componentize-py (the version the Python SDK is tested with) into a venv under
# target/ when it is not there yet, and prints the program's path. The tests build the
# Python examples with it; `.ci/run` makes sure python3 has venv support.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/py-tools
VERSION=0.25.1
if ! "$VENV/bin/componentize-py" --version 2>/dev/null | grep -q "$VERSION"; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$VERSION" >&2
fi
echo "$PWD/$VENV/bin/componentize-py"
