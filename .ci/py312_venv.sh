# Shared by .ci/isaaclab_job.sh and .ci/newton_job.sh (sourced, not run): the Python 3.12 venv both jobs build
# and cache, and how they build it.
#
# Isaac Lab 3.0 needs Python 3.12 and imports without Isaac Sim. Each job builds its own venv once and reuses it
# while its pinned requirements are unchanged (stamp file .requirements.sha256 in the venv). Everything is
# installed with --no-deps from the pins below: the lists are complete closures, so pip resolves nothing and
# a build is reproducible. torch is PyPI's CUDA 13 build (PyPI has no CPU wheel): it is installed with only the
# NVIDIA libraries its shared objects load at import (no triton, nvrtc, nvtx, cusolver, cuda-bindings); it
# imports and computes on the CPU without a GPU.

IHE_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/isaac_hydra_ext"
IHE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The pins both jobs share; each job adds its own (MuJoCo 4.0 for the Isaac Lab job, MuJoCo 3.12 with Newton and
# the MJCF importer for the Newton job). tensorboard, onnx: the trainer's logs and the play script's export.
PY312_COMMON_REQUIREMENTS="
isaaclab==3.0.0
torch==2.11.0
nvidia-cuda-runtime==13.0.96
nvidia-cuda-cupti==13.0.85
nvidia-cublas==13.1.0.3
nvidia-cudnn-cu13==9.19.0.56
nvidia-cufft==12.0.0.61
nvidia-cufile==1.15.1.6
nvidia-curand==10.4.0.35
nvidia-cusparse==12.6.3.3
nvidia-cusparselt-cu13==0.8.0
nvidia-nccl-cu13==2.28.9
nvidia-nvjitlink==13.0.88
nvidia-nvshmem-cu13==3.4.5
usd-exchange==3.0.1
warp-lang==1.17.0
numpy==2.5.5
gymnasium==1.4.0
cloudpickle==3.1.2
Farama-Notifications==0.0.6
typing-extensions==4.16.0
hydra-core==1.3.8
omegaconf==2.3.1
antlr4-python3-runtime==4.9.3
PyYAML==6.0.3
packaging==26.3
lazy-loader==0.6
prettytable==3.18.0
wcwidth==0.9.4
rich==15.0.0
markdown-it-py==4.3.0
mdurl==0.1.2
Pygments==2.21.0
tqdm==4.70.1
filelock==4.2.12
fsspec==2026.9.0
Jinja2==3.1.6
MarkupSafe==3.0.4
sympy==1.14.0
mpmath==1.3.0
networkx==3.7
setuptools==81.0.0
psutil==7.2.2
tensorboard==2.21.0
tensorboard-data-server==0.7.2
absl-py==2.5.1
grpcio==1.85.1
Markdown==3.11.3
protobuf==7.36.2
Werkzeug==3.1.9
pillow==13.0.0
onnx==1.23.2
ml_dtypes==0.6.0
glfw==2.11.0
PyOpenGL==3.1.10
pytest==9.2.0
pytest-timeout==2.4.0
pluggy==1.7.0
iniconfig==2.3.1
"

find_python312() {
    local candidates=("${IHE_PYTHON312:-}" "$(command -v python3.12 || true)")
    candidates+=("$HOME"/.pyenv/versions/3.12*/bin/python3 /usr/local/bin/python3.12 /usr/bin/python3.12)
    local py
    for py in "${candidates[@]}"; do
        if [ -n "$py" ] && [ -x "$py" ] && "$py" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
            echo "$py"
            return 0
        fi
    done
    return 1
}

# build_py312_venv JOB VENV REQUIREMENTS KEY_EXTRA CHECK_IMPORTS [AFTER_BUILD_FUNCTION]
# Sets PY312 (exits 0 with a SKIP line when there is none), then builds VENV unless its stamp matches, runs the
# optional function after a build, checks that CHECK_IMPORTS import, and installs this checkout editable.
build_py312_venv() {
    local job="$1" venv="$2" requirements="$3" key_extra="$4" check="$5" after="${6:-}"
    if [ "${IHE_SKIP_PY312:-}" = "1" ]; then
        echo "SKIP: $job: IHE_SKIP_PY312=1"
        exit 0
    fi
    if ! PY312="$(find_python312)"; then
        echo "SKIP: $job: no Python 3.12 interpreter found (Isaac Lab 3.0 requires Python 3.12); set IHE_PYTHON312"
        exit 0
    fi
    local key stamp="$venv/.requirements.sha256"
    key="$(printf '%s\n%s\n%s\n' "$requirements" "$("$PY312" -V 2>&1)" "$key_extra" | sha256sum | cut -d' ' -f1)"
    JOB_START=$(date +%s)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && [ -x "$venv/bin/python" ]; then
        echo "$job: reusing $venv"
    else
        echo "$job: building $venv with $PY312 ($("$PY312" -V 2>&1)): about 4.5 GB to download and install" \
             "(torch with its CUDA libraries, Isaac Lab 3.0), a few minutes; reused while the pins are unchanged;" \
             "IHE_SKIP_PY312=1 skips the Python 3.12 jobs"
        rm -rf "$venv"
        mkdir -p "$(dirname "$venv")"
        "$PY312" -m venv "$venv"
        local req_file
        req_file="$(mktemp)"
        printf '%s\n' "$requirements" | sed '/^$/d' > "$req_file"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --prefer-binary -r "$req_file"
        rm -f "$req_file"
        if [ -n "$after" ]; then "$after" "$venv"; fi
        "$venv/bin/python" -c "import $check" >/dev/null
        echo "$key" > "$stamp"
        echo "$job: venv built in $(( $(date +%s) - JOB_START ))s ($(du -sh "$venv" | cut -f1))"
    fi
    # our package, editable, from this checkout (cheap; the checkout path can change between runs)
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$IHE_ROOT"
}
