#!/usr/bin/env bash
# The rules CI runs before the tests: lint, format, import contract, type check.
# Run after scripts/setup.sh; `scripts/check.sh --fix` applies ruff's fixes and formatting first.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
if [ "${1:-}" = "--fix" ]; then
  "$bin/ruff" check --no-cache --fix .
  "$bin/ruff" format --no-cache .
fi
echo "check: ruff lint" >&2
"$bin/ruff" check --no-cache .
echo "check: ruff format" >&2
"$bin/ruff" format --no-cache --check .
echo "check: import contract" >&2
"$bin/lint-imports" --no-cache
echo "check: types (engine, configs, pure cores)" >&2
"$bin/mypy" --no-incremental
