#!/usr/bin/env bash
# Idempotent set-up: a virtual environment in .venv with ReportQA installed (CPU-only torch pinned
# in pyproject.toml), plus, for the tests, Debian's Chromium and the two CJK fixture fonts.
# Sourced by scripts/start.sh and scripts/test.sh; safe to run again (it skips what is done).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${QA_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" - <<'PYCHECK' || { echo "ReportQA needs Python 3.11 or 3.12 (found $("$PY" --version 2>&1))" >&2; exit 1; }
import sys
sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)
PYCHECK

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.reportqa-installed"
hash="$(sha256sum < "$ROOT/pyproject.toml" | cut -d' ' -f1)"
want="$hash-${1:-app}"
# A test install includes everything an app install has.
if [ ! -f "$stamp" ] || ! grep -qx -e "$want" -e "$hash-test" "$stamp"; then
  echo "==> installing ReportQA and its dependencies into $VENV (first time: a few minutes)"
  "$VENV/bin/pip" install --quiet --upgrade pip
  # torch first and pinned: an unpinned torch would pull a multi-GB CUDA build.
  "$VENV/bin/pip" install --quiet "torch==2.13.0"
  if [ "${1:-app}" = "test" ]; then
    "$VENV/bin/pip" install --quiet -e "$ROOT[test]"
  else
    "$VENV/bin/pip" install --quiet -e "$ROOT[ocr,fast]"
  fi
  echo "$want" > "$stamp"
fi

# OCR of scanned reports (optional at run time: without it, image-only PDFs are skipped with a message).
ocr_need=()
for pkg in tesseract-ocr tesseract-ocr-chi-tra tesseract-ocr-chi-sim tesseract-ocr-eng; do
  dpkg -s "$pkg" >/dev/null 2>&1 || ocr_need+=("$pkg")
done
if [ ${#ocr_need[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "==> installing ${ocr_need[*]} (OCR of scanned reports)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${ocr_need[@]}" >/dev/null
  else
    echo "note: ${ocr_need[*]} missing and not root: scanned PDFs cannot be read (OCR tests fail under CI)" >&2
  fi
fi

if [ "${1:-app}" = "test" ]; then
  need=()
  for pkg in chromium chromium-driver fonts-noto-cjk fonts-wqy-zenhei; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = "0" ]; then
      echo "==> installing ${need[*]} (browser and PDF tests)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
      echo "note: ${need[*]} missing and not root: browser and PDF tests will be skipped (and fail under CI)" >&2
    fi
  fi
fi
