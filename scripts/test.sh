#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up (with test extras, Chromium, CJK font), lint, test.
# Extra arguments go to pytest (e.g. scripts/test.sh -m slow).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" test
cd "$ROOT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/ruff check .
# Everything, slow and quality-floor tests included, unless arguments say otherwise.
if [ $# -eq 0 ]; then set -- -m "slow or not slow"; fi
.venv/bin/python -m pytest "$@"
