#!/usr/bin/env bash
# Quick start, part 2: set everything up and run the whole test suite (pass pytest options through,
# e.g. scripts/test.sh -m "not slow" for the quick run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Tests that need ffmpeg, flite or espeak-ng fail instead of skipping: setup installed them.
export AITK_STRICT_TESTS=1
exec .venv/bin/python -m pytest --durations=25 "$@"
