# Sourced by scripts/try and scripts/test: a virtual environment in .venv with caseroom installed
# (editable), re-installed only when pyproject.toml changed. Safe to run again.
# Usage: ensure_venv "EXTRAS"   (e.g. "test", or "" for none)
ensure_venv() {
  local extras=$1 python=${PYTHON:-python3}
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "caseroom needs Python 3.11 or newer as '$python' (set PYTHON=...)" >&2
    exit 1
  fi
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  local stamp=.venv/.caseroom-installed want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1) [$extras]"
  if [ ! -f "$stamp" ] || ! grep -qxF -- "$want" "$stamp"; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    if [ -n "$extras" ]; then
      .venv/bin/python -m pip install --quiet -e ".[$extras]"
    else
      .venv/bin/python -m pip install --quiet -e .
    fi
    echo "$want" >> "$stamp"
  fi
}
