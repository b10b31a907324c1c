#!/usr/bin/env bash
# Set up solo-tricl for development and for the README's main job:
#   1. Debian's Fashion-MNIST files (offline data for the tests and the demo),
#   2. a virtual environment .venv with solo-tricl and every extra ([dev] = solo, clip, explain, test),
#   3. solo-learn main at a fixed commit (9187ea3, 1.0.6) from its git repository (PyPI's `solo-learn` is the 2021 release 1.0.2
#      with another API and must not be used).
# Step 3 needs GitHub; without it the script says so and goes on, and the solo-learn tests skip.
# SOLO_LEARN_SPEC overrides where solo-learn comes from (a pip requirement or a local clone).
# OPEN_CLIP_SPEC (a pip requirement or a local clone of OpenCLIP, e.g. its main branch) replaces
# the clip extra's open_clip_torch 3.3 from PyPI; use it with another VENV, e.g.
#   VENV=.venv-openclip-main OPEN_CLIP_SPEC=/path/to/open_clip bash scripts/setup.sh
# Running the script again on an existing environment brings it to the same state.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
SOLO_LEARN_SPEC=${SOLO_LEARN_SPEC:-"solo-learn @ git+https://github.com/vturrisi/solo-learn.git@9187ea39c2c3f43c455ab06664d2b019a9802954"}

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    if command -v apt-get >/dev/null; then
        if [ "$(id -u)" = 0 ]; then apt-get install -y dataset-fashion-mnist
        else sudo apt-get install -y dataset-fashion-mnist; fi
    else
        echo "setup: no apt-get; Fashion-MNIST tests will skip (solo-tricl data can download it)" >&2
    fi
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip
if [ -n "${OPEN_CLIP_SPEC:-}" ]; then
    "$VENV/bin/pip" install -e '.[solo,explain,test,clip-base]' "$OPEN_CLIP_SPEC"
    echo "setup: OpenCLIP installed from: $OPEN_CLIP_SPEC"
else
    "$VENV/bin/pip" install -e '.[dev]'
fi

# solo-learn's setup.py imports pkg_resources (setuptools<81, from the [solo] extra) and pins
# lightning==2.1.2; install it without build isolation and without its pins.
if "$VENV/bin/pip" install --no-build-isolation --no-deps "$SOLO_LEARN_SPEC"; then
    echo "setup: solo-learn installed from: $SOLO_LEARN_SPEC"
else
    echo "setup: WARNING: could not install solo-learn from: $SOLO_LEARN_SPEC" >&2
    echo "setup: the solo-learn tests will be skipped; the losses, OpenCLIP and COCOA work" >&2
fi
