#!/usr/bin/env bash
# Fill a wheelhouse for the registry image (Dockerfile): Lamina's wheel built from this
# checkout, the wheels of its pinned dependencies, and pip's own wheel (the image runs pip
# from it). Run on the host, where the package index answers; the image build then needs
# no network. Usage: scripts/wheelhouse.sh [DIR] (default build/wheelhouse).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$here/build/wheelhouse}
python=${PYTHON:-python3}
mkdir -p "$dest"
# A stale Lamina wheel of the same version would be kept by pip; this one is the checkout.
rm -f "$dest"/lamina-*.whl
"$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$dest" "$here" pip
