#!/usr/bin/env bash
# Set everything up, idempotently, on Debian 12 with Python 3.11 (root, or a user with sudo):
#   apt packages (Arm and RISC-V GCC + their C libraries, QEMU) → .venv with the pinned Python stack → offline PlatformIO.
# Fast when already done: each step checks first. Override the venv location with MOBILENET_TINY_VENV.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${MOBILENET_TINY_VENV:-$ROOT/.venv}
say() { printf '[setup] %s\n' "$*"; }

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

APT_PACKAGES="gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc"
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "[setup] error: Python 3.11 not found (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
# Debian's python3.11 ships venv/ensurepip in a separate package.
"$PY" -c 'import ensurepip, venv' 2>/dev/null || APT_PACKAGES="$APT_PACKAGES python3.11-venv"

missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "apt-get install$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.mobilenet-tiny-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "pip install -e .[test] (first time: a few minutes)"
  log="$VENV/pip-install.log"
  if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
         "$VENV/bin/python" -m pip install --disable-pip-version-check -e ".[test]"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "[setup] error: pip install failed (full log: $log)" >&2
    exit 1
  fi
  rm -f "$VENV"/.mobilenet-tiny-installed-*
  touch "$stamp"
fi

if [ -f tools/setup_platformio.py ]; then
  "$VENV/bin/python" tools/setup_platformio.py
fi
say "ready: $VENV/bin/mobilenet-tiny"
