#!/usr/bin/env bash
# Isaac Lab 3.0 test job: runs `pytest -m isaaclab tests/isaaclab_ext` against the real isaaclab==3.0.0 wheel.
#
# Its venv (built and cached by .ci/py312_venv.sh): ${XDG_CACHE_HOME:-$HOME/.cache}/isaac_hydra_ext/venv312-il.
# Isaac Lab 2.3.2's wheel (3 MB, Python 3.11 only) is unpacked next to it so the 2.x code paths run against Isaac
# Lab 2.3's real `hydra_task_config` source (IHE_ISAACLAB23_SOURCE).
# Exits 0 with a "SKIP:" line when no Python 3.12 interpreter is found (set IHE_PYTHON312). Extra arguments go to
# pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/py312_venv.sh"

VENV="$IHE_CACHE/venv312-il"
IL23_VERSION="2.3.2.post1"
IL23_DIR="$IHE_CACHE/isaaclab-$IL23_VERSION"
# the 2.3 source folders the tests read (hydra_task_config; configclass and its helpers)
IL23_PATHS="isaaclab/source/isaaclab_tasks/isaaclab_tasks/utils/ isaaclab/source/isaaclab/isaaclab/utils/"
REQUIREMENTS="$PY312_COMMON_REQUIREMENTS
mujoco==4.0.0
mujoco-core==4.0.0
mujoco-studio==4.0.0
websockets==17.4
"

unpack_isaaclab23() {  # Isaac Lab 2.3's sources (only read by the 2.x tests; the wheel cannot be installed on 3.12)
    rm -rf "$IL23_DIR"
    "$1/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.11 -d "$IL23_DIR" "isaaclab==$IL23_VERSION"
    "$1/bin/python" - "$IL23_DIR" $IL23_PATHS <<'PY'
import glob, sys, zipfile
target, prefixes = sys.argv[1], tuple(sys.argv[2:])
(wheel,) = glob.glob(f"{target}/isaaclab-*.whl")
with zipfile.ZipFile(wheel) as z:
    z.extractall(target, [n for n in z.namelist() if n.startswith(prefixes)])
PY
}

build_py312_venv "isaaclab job" "$VENV" "$REQUIREMENTS" "$IL23_VERSION $IL23_PATHS" \
    "torch, isaaclab_tasks.utils.hydra, pxr" unpack_isaaclab23

export IHE_ISAACLAB23_SOURCE="$IL23_DIR/isaaclab/source"
cd "$IHE_ROOT"
status=0
"$VENV/bin/python" -m pytest -m isaaclab tests/isaaclab_ext "$@" || status=$?
echo "isaaclab job: finished in $(( $(date +%s) - JOB_START ))s (pytest exit $status)"
exit "$status"
