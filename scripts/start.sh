#!/usr/bin/env bash
# The main job on a fresh machine: set up, index the sample reports, answer a sample question,
# then serve the web app on http://127.0.0.1:7860 (Ctrl-C stops it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" app
QA="$ROOT/.venv/bin/qa"
REPORTS="${1:-$ROOT/../shared/reports}"
export QA_INDEX="${QA_INDEX:-$ROOT/index-data}"
echo "==> indexing $REPORTS into $QA_INDEX"
"$QA" ingest "$REPORTS"
echo "==> sample question"
"$QA" ask "2024年數位經濟規模達到多少？"
echo "==> starting the app on http://127.0.0.1:${QA_PORT:-7860}"
exec "$QA" serve --port "${QA_PORT:-7860}"
