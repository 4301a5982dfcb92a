#!/usr/bin/env bash
# Issue 16 on the GPU host: the "any gymnasium env" path (env=gym env.id=<id>) with the defaults only, Hopper-v5 and
# HalfCheetah-v5. Usage: benchmarks/gym_defaults_suite.sh [section...] (default: efficiency learning), sections
#   efficiency  APPO env steps/s over the random-action ceiling of the same workers, W = 1, 4, 8, 15 (~4.5 min)
#   learning    mean return at 250k, 500k and 1M samples, 15 workers vs 1 worker, seed 1 (~4 min; the W=1 runs side
#               by side, each stopped after LW_W1_S=170 s of training)
#   learning_full_w15, learning_full_w1  the goal's version: seeds 1-3, returns at 1M and 3M, 15 workers (~5 min)
#               and 1 worker (~9 min): one call each
#   learning_1m  the goal's seeds (1-3) to 1M samples: 15 workers one run at a time (~3 min), then the six 1-worker
#               runs side by side (each stopped after LW_W1_S=320 s) with Stable-Baselines3's PPO at CleanRL's settings
#               beside them under the same load (benchmarks/sb3_ppo_rate.py, SB3_STEPS=100000 steps per env), so our
#               time to CleanRL's published return can be set against a standard PPO's time to 1M samples
#   sb3         only the SB3 rate (both envs side by side)
# Knobs: EFF_WORKERS (1,4,8,15), EFF_SECONDS (5), EFF_T (a T other than the defaults'), LW_ENVS (hopper,halfcheetah),
# LW_SEEDS, LW_SAMPLES, LW_EXTRA (overrides for every learning run, e.g. "ppo.steps_per_env=32" for B*T = 1024).
# Results (JSON with machine, versions, commit and command) go to ${OUT:-/tmp/gym16}; each run's table is printed.
# Where the tree was copied without its current .git, set IHE_GIT_COMMIT to the commit the results belong to.
set -u
OUT="${OUT:-/tmp/gym16}"; mkdir -p "$OUT"
export PYTHONPATH="${PYTHONPATH:-}:$PWD/source/isaac_hydra_ext:$PWD/benchmarks" OMP_NUM_THREADS=1
LW="python3 benchmarks/learning_vs_workers.py --envs ${LW_ENVS:-hopper,halfcheetah} --no-doc"
DEV="experiment.device=cuda ${LW_EXTRA:-}"
MARKS="250000,500000,1000000"
[ $# -eq 0 ] && set -- efficiency learning
for section in "$@"; do
  start=$(date +%s)
  case "$section" in
    efficiency)
      python3 benchmarks/pipeline_efficiency.py --envs hopper,halfcheetah --workers "${EFF_WORKERS:-1,4,8,15}" \
          --seconds "${EFF_SECONDS:-5}" ${EFF_T:+--steps-per-env $EFF_T} --no-doc --out "$OUT/efficiency_gym.json" ;;
    learning)  # the 15-worker runs alone (their wall times count), then the 1-worker runs side by side, each
      # stopped after ${LW_W1_S:-170} s of training if 1M takes longer (the table then reads the lower marks)
      $LW --workers 15 --seeds "${LW_SEEDS:-1}" --samples "${LW_SAMPLES:-1000000}" --marks "$MARKS" \
          --max-wall-s 90 --out "$OUT/learning_w15.json" -- $DEV
      $LW --workers 1 --seeds "${LW_SEEDS:-1}" --samples "${LW_SAMPLES:-1000000}" --marks "$MARKS" --parallel 6 \
          --max-wall-s "${LW_W1_S:-170}" --out "$OUT/learning_w1.json" -- $DEV ;;
    learning_full_w15)  # one run at a time (their wall times count)
      $LW --workers 15 --seeds "${LW_SEEDS:-1,2,3}" --samples "${LW_SAMPLES:-3000000}" --max-wall-s 120 \
          --out "$OUT/learning_full_w15.json" -- $DEV ;;
    learning_full_w1)  # all six side by side (12 processes on 16 cores), each stopped after LW_W1_S=520 s
      $LW --workers 1 --seeds "${LW_SEEDS:-1,2,3}" --samples "${LW_SAMPLES:-3000000}" --parallel 6 \
          --max-wall-s "${LW_W1_S:-520}" --out "$OUT/learning_full_w1.json" -- $DEV ;;
    learning_1m)
      $LW --workers 15 --seeds "${LW_SEEDS:-1,2,3}" --samples 1000000 --marks "$MARKS" --max-wall-s 60 \
          --out "$OUT/learning_1m_w15.json" -- $DEV
      python3 benchmarks/sb3_ppo_rate.py --envs hopper,halfcheetah --steps "${SB3_STEPS:-100000}" --parallel \
          --out "$OUT/sb3_rate.json" > "$OUT/sb3_rate.log" 2>&1 &
      sb3=$!
      $LW --workers 1 --seeds "${LW_SEEDS:-1,2,3}" --samples 1000000 --marks "$MARKS" --parallel 6 \
          --max-wall-s "${LW_W1_S:-320}" --out "$OUT/learning_1m_w1.json" -- $DEV
      wait $sb3; cat "$OUT/sb3_rate.log" ;;
    sb3)
      python3 benchmarks/sb3_ppo_rate.py --envs hopper,halfcheetah --steps "${SB3_STEPS:-100000}" --parallel \
          --out "$OUT/sb3_rate.json" ;;
    *) echo "unknown section $section" >&2; exit 2 ;;
  esac
  echo "section $section: $(( $(date +%s) - start )) s" | tee -a "$OUT/timings.txt"
done
