#!/usr/bin/env bash
# Make this checkout ready to run: Debian packages, then a .venv with the project installed.
# Safe to run again: it only does what is missing. Used by `make demo` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
while read -r line; do
  pkg="${line%%#*}"; pkg="${pkg//[[:space:]]/}"
  [ -n "$pkg" ] && want+=("$pkg")
done < scripts/system-packages.txt

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ] && [ "${KIOSK_SKIP_SYSTEM_PACKAGES:-0}" != "1" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: these Debian packages are needed but apt-get is not available on this machine:" >&2
    echo "  ${missing[*]}" >&2
    echo "Install their equivalents with your package manager, or set KIOSK_SKIP_SYSTEM_PACKAGES=1 to go on without them." >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "bootstrap: installing ${missing[*]} needs root, and sudo is not available; run 'apt-get install ${missing[*]}' as root." >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}"
fi

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python="$candidate"; break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "bootstrap: Python 3.11 is required (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi

stamp=.venv/.installed
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  echo "bootstrap: installing Python packages into .venv (pinned by constraints.txt)"
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]'
  touch "$stamp"
fi
