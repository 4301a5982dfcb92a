#!/usr/bin/env bash
# Issue 19 on the GPU host: Go1 with and without symmetry augmentation (samples to walk, gait symmetry) and the
# sim-to-sim replay of walking policies (MuJoCo <-> Newton). Usage: benchmarks/symmetry_sim2sim_suite.sh SECTION...
#   go1_start  start the MuJoCo Go1 runs in the background (own session, nice 10, so they survive this call and
#              yield to the Newton run) and return: for each seed of GO1_SEEDS (1,2) the plain run, then the same
#              with ppo.use_data_augmentation=true; 15 workers x 256 envs, GPU learner, GO1_SAMPLES (15M) env steps
#              each, one after the other, under $WORK/go1 (experiment names go1_plain_s<seed>, go1_sym_s<seed>)
#   newton     the Newton flat Go1 (Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0, 4096 envs, the task's default
#              mode) through the Isaac Lab train script for NEWTON_WALL (180) s of training, under $WORK/newton
#   sim2sim    benchmarks/sim2sim.py on the first finished plain MuJoCo run and the Newton run, 64 envs x 1000
#              steps per replay, the Newton replays on the GPU; table and reports into $OUT
#   go1_wait   wait for the background runs until GO1_DEADLINE (epoch seconds; default: now + 300), then stop the
#              rest with SIGINT (they save a checkpoint and exit)
#   collect    the runs' last checkpoints, metrics.jsonl, summary.json and config into $OUT/runs.tar.gz
# Environments: the MuJoCo runs and the MuJoCo replays use GYM_SITE (default /tmp/site: .whl/gym installed there;
# mujoco 4.0, gymnasium 1.4, hydra); the Newton run and replays use IHE_DEVICE_SITE (default /tmp/ihe_site, unpacked
# by `benchmarks/newton_device.sh unpack`). GO1_WORKERS, GO1_DEVICE and GO1_EXTRA (more overrides) change the Go1 runs
# (a CPU check of this script: GO1_WORKERS=1 GO1_DEVICE=cpu GO1_EXTRA=ppo.envs_per_worker=16 GO1_SAMPLES=20000;
# NEWTON_DEVICE=cpu NEWTON_ENVS=16 NEWTON_WALL=20; S2S_DEVICE=cpu S2S_ENVS=4 S2S_STEPS=50). Afterwards, here: benchmarks/go1_gait_symmetry.py on the returned runs.
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WORK:-/tmp/i19}"
OUT="${OUT:-$WORK/out}"
GYM_SITE="${GYM_SITE:-/tmp/site}"
NEWTON_SITE="${IHE_DEVICE_SITE:-/tmp/ihe_site}"
SRC="$ROOT/source/isaac_hydra_ext:$ROOT/benchmarks"
mkdir -p "$WORK/go1" "$WORK/newton" "$OUT"
export PYTHONUNBUFFERED=1

gym_python() { PYTHONPATH="$GYM_SITE:$SRC" python3 "$@"; }

newton_python_wrapper() {  # an interpreter for sim2sim.py's --python: the Newton site first
    local w="$WORK/newton_python"
    printf '#!/bin/sh\nPYTHONPATH="%s:%s" exec %s "$@"\n' "$NEWTON_SITE" "$SRC" "${NEWTON_PYTHON:-python3}" > "$w"
    chmod +x "$w"
    echo "$w"
}

first_run() {  # the newest run directory of an experiment name (empty if none)
    ls -d "$1"/logs/appo/"$2"/*/ 2>/dev/null | tail -1 | sed 's|/$||'
}

for section in "$@"; do
  start=$(date +%s)
  case "$section" in
    go1_start)
      runs=""
      for s in $(echo "${GO1_SEEDS:-1,2}" | tr ',' ' '); do
        common="env=mujoco_go1 ppo.num_workers=${GO1_WORKERS:-15} experiment.device=${GO1_DEVICE:-cuda}"
        common="$common logging.console=none experiment.seed=$s ${GO1_EXTRA:-}"
        common="$common experiment.max_env_steps=${GO1_SAMPLES:-15000000}"
        runs="$runs
$common experiment.name=go1_plain_s$s
$common experiment.name=go1_sym_s$s ppo.use_data_augmentation=true"
      done
      printf '%s\n' "$runs" | sed '/^$/d' > "$WORK/go1/runs.txt"
      cd "$WORK/go1" && setsid nohup bash -c "
        while read -r args; do
          echo \"[go1] \$(date +%T) start: \$args\"
          PYTHONPATH='$GYM_SITE:$SRC' nice -n 10 python3 -m isaac_hydra_ext.appo_runner \$args 2>&1 | tail -3
          echo \"[go1] \$(date +%T) exit \${PIPESTATUS[0]}\"
        done < runs.txt; echo '[go1] all done'; touch done" > "$WORK/go1/bg.log" 2>&1 < /dev/null &
      cd "$ROOT"
      echo "started $(wc -l < "$WORK/go1/runs.txt") Go1 runs in the background (log $WORK/go1/bg.log)" ;;
    newton)
      (cd "$WORK/newton" && PYTHONPATH="$NEWTON_SITE:$SRC" "${NEWTON_PYTHON:-python3}" "$ROOT/scripts/reinforcement_learning/appo/train.py" \
          --task Isaac-Velocity-Sber-Flat-Unitree-Go1-Newton-v0 --device "${NEWTON_DEVICE:-cuda}" \
          --num_envs "${NEWTON_ENVS:-4096}" \
          --max_iterations 1000000 "agent.max_wall_time_s=${NEWTON_WALL:-180}" > "$WORK/newton/train.log" 2>&1)
      echo "newton train exit $?"; tail -5 "$WORK/newton/train.log" ;;
    sim2sim)
      # the first plain MuJoCo run must have finished (the first "exit" in bg.log); wait up to S2S_WAIT (300) s
      waited=0
      until grep -q "exit" "$WORK/go1/bg.log" 2> /dev/null || [ "$waited" -ge "${S2S_WAIT:-300}" ]; do
        sleep 5; waited=$((waited + 5))
      done
      mujoco_run="$(first_run "$WORK/go1" go1_plain_s1)"
      newton_run="$(ls -d "$WORK"/newton/logs/appo/*/*/ 2>/dev/null | tail -1 | sed 's|/$||')"
      if [ -z "$mujoco_run" ] || [ -z "$newton_run" ]; then
        echo "sim2sim: missing a run (MuJoCo: '${mujoco_run}', Newton: '${newton_run}')"
      else
        gym_python "$ROOT/benchmarks/sim2sim.py" --mujoco-checkpoint "$mujoco_run" --newton-checkpoint "$newton_run" \
            --device "${S2S_DEVICE:-cuda:0}" --num-envs "${S2S_ENVS:-64}" --steps "${S2S_STEPS:-1000}" \
            --python "$(newton_python_wrapper)" \
            --out "$OUT/sim2sim.md" --json "$OUT/sim2sim.json" --timeout 240
      fi ;;
    go1_wait)
      deadline="${GO1_DEADLINE:-$(( $(date +%s) + 300 ))}"
      while [ ! -f "$WORK/go1/done" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 5; done
      if [ ! -f "$WORK/go1/done" ]; then
        echo "go1: deadline reached, stopping the running run"
        pkill -INT -f "isaac_hydra_ext.appo_runner" ; sleep 20
        pkill -f "runs.txt" ; pkill -KILL -f "isaac_hydra_ext.appo_runner"
      fi
      cat "$WORK/go1/bg.log" ;;
    collect)
      (cd "$WORK" && find go1/logs newton/logs -name 'metrics.jsonl' -o -name 'summary.json' -o -name 'config.yaml' \
          -o -name 'train.log' 2>/dev/null > files.txt
       for d in $(ls -d go1/logs/appo/*/*/ newton/logs/appo/*/*/ 2>/dev/null); do
         ls "$d"model_*.pt 2>/dev/null | sort -V | tail -1 >> files.txt
         ls -d "$d"params 2>/dev/null >> files.txt
       done
       cp go1/bg.log newton/train.log "$OUT/" 2>/dev/null
       tar -czf "$OUT/runs.tar.gz" -T files.txt && ls -la "$OUT") ;;
    *) echo "unknown section $section" >&2; exit 2 ;;
  esac
  echo "section $section: $(( $(date +%s) - start )) s"
done
