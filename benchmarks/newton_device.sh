#!/usr/bin/env bash
# The Isaac Lab Newton benchmarks on the lent GPU machine (Python 3.12 with torch 2.11, no network): how the
# packages it lacks travel there, and the one command that runs the benchmark once they are there.
#
#   here:  bash benchmarks/newton_device.sh pack [DEST]     # chunks of <= 56 MiB in DEST (default .whl/newton-h200/p1..pN)
#   there: bash benchmarks/newton_device.sh check           # calls 1..N-1, each carrying one chunk folder: lists what arrived
#   there: bash benchmarks/newton_device.sh run [ARGS...]   # last call: unpack once, run isaaclab_newton_vs_rsl_rl.py ARGS
#   there: bash benchmarks/newton_device.sh unpack          # last call: only unpack (for other scripts, e.g.
#                                                           # benchmarks/symmetry_sim2sim_suite.sh)
#
# What travels: the installed files of every distribution below, taken from the Newton CI venv (.ci/newton_job.sh
# builds it; ${IHE_NEWTON_VENV:-~/.cache/isaac_hydra_ext/venv312-newton}; CPython 3.12, manylinux x86-64, so the files
# are the ones pip installs there), packed as one tar.xz (about 140 MiB; warp-lang alone is 157 MiB as a wheel) and
# split into chunks that fit a call's 64 MiB together with the working tree. A call carries one chunk folder; the
# folders carried by earlier calls stay on the machine while it is warm (30 s after each call), so the chunks must go
# in consecutive calls. `run` checks the joined chunks against their sha256, unpacks them once into $IHE_DEVICE_SITE
# (default /tmp/ihe_site; later calls on the same warm machine reuse it) and puts it first on PYTHONPATH with this
# checkout's source/ and benchmarks/.
#
# The list: what the GPU machine lacks for Isaac Lab 3.0 + Newton + the MJCF importer (docs/isaaclab.md, "On a GPU
# machine without network") plus rsl_rl 5.5.1 and its imports (tensordict, pyvers, GitPython, gitdb, smmap). The
# machine has torch, numpy, scipy, matplotlib, psutil, tensorboard, onnx, rich, pyyaml, etils and the rest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DISTS="warp-lang usd-exchange mujoco isaaclab newton mujoco-warp PyOpenGL wcwidth trimesh gymnasium
isaacsim-asset-isolated isaacsim-robot-schema glfw tinyobjloader hydra-core antlr4-python3-runtime omegaconf
mujoco-usd-converter python-utils numpy-stl prettytable newton-usd-schemas Farama-Notifications
rsl-rl-lib tensordict pyvers GitPython gitdb smmap"
CHUNK_MB="${IHE_CHUNK_MB:-56}"  # + the working tree must stay under 64 MiB a call
SITE="${IHE_DEVICE_SITE:-/tmp/ihe_site}"

pack() {
    local dest="${1:-$ROOT/.whl/newton-h200}"
    local venv="${IHE_NEWTON_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/isaac_hydra_ext/venv312-newton}"
    local cache="${XDG_CACHE_HOME:-$HOME/.cache}/isaac_hydra_ext/device-site"
    [ -x "$venv/bin/python" ] || { echo "no Newton venv at $venv: run .ci/newton_job.sh first" >&2; exit 1; }
    # the distributions' versions name the packed set; an unchanged set is packed once
    local key
    key="$("$venv/bin/python" - $DISTS <<'EOF' | sha256sum | cut -c1-16
import sys
from importlib import metadata
print(sys.version_info[:2], *(f"{d}=={metadata.version(d)}" for d in sys.argv[1:]))
EOF
)"
    local packed="$cache/$key"
    if [ ! -f "$packed/SHA256" ]; then
        rm -rf "$packed" && mkdir -p "$packed"
        local stage
        stage="$(mktemp -d)"
        # copy every file a distribution installed inside site-packages (console scripts in bin/ are left out)
        "$venv/bin/python" - "$stage" $DISTS <<'EOF'
import shutil, sys
from importlib import metadata
from pathlib import Path
stage, names = Path(sys.argv[1]), sys.argv[2:]
for name in names:
    dist = metadata.distribution(name)
    base = Path(dist.locate_file("")).resolve()
    for f in dist.files or []:
        src = Path(dist.locate_file(f)).resolve()
        if not src.is_file() or base not in src.parents or "__pycache__" in src.parts:
            continue
        dst = stage / src.relative_to(base)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    print(f"{dist.metadata['Name']}=={dist.version}")
EOF
        tar -C "$stage" -cf - . | xz -T2 -9 > "$packed/site.tar.xz"  # about 20 minutes on 2 busy cores
        rm -rf "$stage"
        sha256sum "$packed/site.tar.xz" | cut -d' ' -f1 > "$packed/SHA256"
    fi
    rm -rf "$dest"
    mkdir -p "$dest"
    split -b "${CHUNK_MB}M" -d -a 1 "$packed/site.tar.xz" "$dest/site.tar.xz.part-"
    local n=0 part
    for part in "$dest"/site.tar.xz.part-*; do
        n=$((n + 1))
        mkdir -p "$dest/p$n"
        mv "$part" "$dest/p$n/"
        cp "$packed/SHA256" "$dest/p$n/"
    done
    echo "$n chunks in $dest ($(du -sh "$packed/site.tar.xz" | cut -f1) packed in $packed):"
    du -sh "$dest"/p*
    local tree_kb
    tree_kb=$(cd "$ROOT" && git ls-files -z | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
    echo "working tree $((tree_kb / 1024)) MiB travels with each chunk (limit 64 MiB a call)"
}

check() {
    local found
    found="$(ls "$ROOT"/.whl/newton-h200/p*/site.tar.xz.part-* 2>/dev/null | sed 's|.*/\(p[0-9]*\)/.*|\1|' | tr '\n' ' ')"
    echo "chunks on this machine: ${found:-none}"
}

unpack() {
    if [ -f "$SITE/.complete" ]; then
        return
    fi
    local parts
    parts="$(ls "$ROOT"/.whl/newton-h200/p*/site.tar.xz.part-* 2>/dev/null || true)"  # p1 < p2 < ... < p9
    [ -n "$parts" ] || { echo "no chunks under .whl/newton-h200: carry them (pack here first)" >&2; exit 1; }
    local want have
    want="$(cat "$(ls "$ROOT"/.whl/newton-h200/p*/SHA256 | head -1)")"
    # shellcheck disable=SC2086
    have="$(cat $parts | sha256sum | cut -d' ' -f1)"
    if [ "$want" != "$have" ]; then
        check >&2
        echo "the joined chunks do not match SHA256: one is missing or stale (carry p1..pN in consecutive calls)" >&2
        exit 1
    fi
    rm -rf "$SITE" && mkdir -p "$SITE"
    # shellcheck disable=SC2086
    cat $parts | python3 -c "import sys, tarfile; tarfile.open(fileobj=sys.stdin.buffer, mode='r|xz').extractall(sys.argv[1], filter='fully_trusted')" "$SITE"
    # byte-compile once, in parallel: otherwise the first timed run would pay for compiling 700 MB of Python
    python3 -m compileall -q -j 0 "$SITE" >/dev/null 2>&1 || true
    touch "$SITE/.complete"
    echo "unpacked $(du -sh "$SITE" | cut -f1) into $SITE"
}

run() {
    unpack
    export PYTHONPATH="$SITE:$ROOT/source/isaac_hydra_ext:$ROOT/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
    export PYTHONUNBUFFERED=1
    cd "$ROOT"
    python3 -c "import torch, warp, isaaclab, rsl_rl; print('GPU', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none', '| torch', torch.__version__, '| warp', warp.__version__)"
    # later arguments win: `run --device cpu ...` for a check without a GPU
    python3 benchmarks/isaaclab_newton_vs_rsl_rl.py --device cuda --out-dir "${OUT:-/tmp/ihe_out}" "$@"
}

case "${1:-}" in
    pack) shift; pack "$@" ;;
    check) check ;;
    run) shift; run "$@" ;;
    unpack) unpack ;;
    *) echo "usage: $0 pack [DEST] | check | unpack | run [benchmark arguments]" >&2; exit 2 ;;
esac
