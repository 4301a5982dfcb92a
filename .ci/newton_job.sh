#!/usr/bin/env bash
# Isaac Lab 3.0 on Newton test job: runs `pytest -m newton tests/isaaclab_ext` (tests/isaaclab_ext/test_il_newton.py)
# against the real isaaclab==3.0.0, Newton 1.6.1 (MuJoCo-Warp on the CPU) and Isaac Lab's standalone MJCF importer
# (isaacsim-asset-isolated, the isaaclab[importers] extra): the Sber Go1 flat task built and stepped kit-less,
# trained and played by the APPO scripts, with no network (the env-building tests run under `unshare -n`).
#
# Its own venv (built and cached by .ci/py312_venv.sh): ${XDG_CACHE_HOME:-$HOME/.cache}/isaac_hydra_ext/venv312-newton.
# It is separate from .ci/isaaclab_job.sh's venv because Newton needs mujoco 3.12 (newton[sim] and the importer pin
# mujoco~=3.12.0, mujoco-warp~=3.12.0) where that job has mujoco 4.0. The list is that job's list with mujoco 4.0
# (and mujoco-core, mujoco-studio, websockets) replaced by mujoco 3.12 and the Newton / importer packages added.
# rsl-rl-lib 5.5.1 (the version Isaac Lab 3.0 pins) with tensordict, pyvers and GitPython (gitdb, smmap): Isaac Lab's
# own rsl_rl wrapper (isaaclab_rl.rsl_rl, shipped in the isaaclab wheel) for scripts/reinforcement_learning/rsl_rl.
# Left out on purpose (--no-deps): usd-optimize (327 MB; the importer imports it only for merge_mesh=True),
# urdf-usd-converter (URDF only), omniverseclient (Isaac Lab's downloader: nothing may be fetched).
# Warp compiles its CPU kernels on first use into ~/.cache/warp (about 60 s once; reused afterwards).
#
# Exits 0 with a "SKIP:" line when no Python 3.12 interpreter is found (set IHE_PYTHON312 to point at one).
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/py312_venv.sh"

VENV="${IHE_NEWTON_VENV:-$IHE_CACHE/venv312-newton}"
REQUIREMENTS="$PY312_COMMON_REQUIREMENTS
mujoco==3.12.0
etils==1.15.0
newton==1.6.1
mujoco-warp==3.12.0
trimesh==5.2.0
isaacsim-asset-isolated==6.2.0.0
isaacsim-robot-schema==6.2.0.0
mujoco-usd-converter==0.6.1
newton-usd-schemas==0.5.0
tinyobjloader==2.0.0rc13
numpy-stl==4.1.1
python-utils==4.2.0
scipy==1.18.1
rsl-rl-lib==5.5.1
tensordict==0.15.3
pyvers==0.2.3
GitPython==3.2.1
gitdb==4.0.12
smmap==5.0.3
"

build_py312_venv "newton job" "$VENV" "$REQUIREMENTS" "" \
    "torch, newton, mujoco_warp, isaaclab_newton, isaacsim.asset.importer.mjcf, trimesh, scipy, rsl_rl, isaaclab_rl.rsl_rl"

cd "$IHE_ROOT"
status=0
"$VENV/bin/python" -m pytest -m newton -p no:cacheprovider tests/isaaclab_ext "$@" || status=$?
echo "newton job: finished in $(( $(date +%s) - JOB_START ))s (pytest exit $status)"
exit "$status"
