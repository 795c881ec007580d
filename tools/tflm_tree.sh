#!/usr/bin/env bash
# TFLM's C++ source trees (reference and CMSIS-NN kernels) at the pinned tflite-micro commit, into the cache
# outside the repository (~/.cache/mobilenet-tiny/tflm/):  tools/tflm_tree.sh [--from GIT_DIR]... [--force]
# Without --from it takes the fetched snapshots in /work/.mirror when they exist, else clones from GitHub.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MOBILENET_TINY_VENV:-$PWD/.venv}
[ -x "$VENV/bin/mobilenet-tiny" ] || bash tools/setup.sh >&2
exec "$VENV/bin/mobilenet-tiny" tflm-tree "$@"
