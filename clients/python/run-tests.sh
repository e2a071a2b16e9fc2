#!/usr/bin/env bash
# Builds and installs the package (stubs generated from ../../proto by
# grpcio-tools) into a virtualenv, checks its types with mypy --strict, then
# runs pytest against a live tokend.
#   clients/python/run-tests.sh [path/to/tokend]
# The virtualenv lives in TOKEND_PY_VENV (default ~/.cache/tokend/venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export TOKEND_BIN="${1:-${TOKEND_BIN:-$here/../../target/debug/tokend}}"
venv="${TOKEND_PY_VENV:-$HOME/.cache/tokend/venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
# Not editable: the stubs are made by the build, as for any user's install
# (pip rebuilds a local directory every time).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$here[test]"
rm -rf "$here/build"
cd "$here"
# Typed: the package passes mypy --strict (settings in pyproject.toml).
"$venv/bin/python" -m mypy src/tokend_client
"$venv/bin/python" -m pytest -q -p no:cacheprovider
