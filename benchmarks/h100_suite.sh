#!/usr/bin/env bash
# The GPU-machine benchmarks of docs/benchmarks.md, as run on the lent H100 machine (16 cores, Python 3.12,
# torch 2.11 preinstalled, no network). Usage: benchmarks/h100_suite.sh <section...> with sections
#   go1        APPO (15 workers x 256 envs, GPU learner) and rsl_rl (4096 envs, 16 physics threads) to a walking Go1
#   go1_variants  the same APPO run with ppo.mode=sync (no policy lag) and with ppo.ratio_reference=behaviour
#              (GO1_VARIANTS="name overrides...;..." runs other variants)
#   efficiency pipeline efficiency, Go1 and HalfCheetah
#   cheetah    APPO and rsl_rl on HalfCheetah-v5 to a mean return of 3000
#   learner    PPO update throughput at Isaac Lab's Go1 rough batch
# Results (JSON with machine, versions and commit) go to ${OUT:-/tmp/h100}; benchmarks/report.py turns them into
# docs/benchmarks.md entries and plots. Missing Python packages travel as wheels in .whl/ (see docs/benchmarks.md).
# Where the tree was copied without its current .git, set IHE_GIT_COMMIT to the commit the results belong to.
set -u
OUT="${OUT:-/tmp/h100}"; WORK=/tmp/h100_runs; mkdir -p "$OUT" "$WORK"
export PYTHONPATH="${PYTHONPATH:-}:$PWD/source/isaac_hydra_ext:$PWD/benchmarks"
TTR="python3 benchmarks/time_to_result.py"
APPO_GO1="env=mujoco_go1 ppo.num_workers=15 experiment.device=cuda logging.console=none"  # go1 and go1_variants
for section in "$@"; do
  case "$section" in
    go1)
      $TTR --trainer appo --goal walk --minutes 4 --out $WORK/appo_go1 -- $APPO_GO1 \
          && cp $WORK/appo_go1/result.json $OUT/go1_appo.json
      $TTR --trainer rsl_rl --goal walk --minutes 4 --out $WORK/rsl_go1 -- --task go1 --num_envs 4096 --threads 16 \
          && cp $WORK/rsl_go1/result.json $OUT/go1_rsl_rl.json ;;
    go1_variants)  # GO1_VARIANTS="name overrides...;name overrides..." replaces the default pair
      IFS=';' read -ra variants <<< "${GO1_VARIANTS:-sync ppo.mode=sync;behaviour ppo.ratio_reference=behaviour}"
      for v in "${variants[@]}"; do
        name=${v%% *}; overrides=${v#"$name"}
        $TTR --trainer appo --goal walk --minutes 4 --out $WORK/appo_go1_$name -- $APPO_GO1 $overrides \
            && cp $WORK/appo_go1_$name/result.json $OUT/go1_appo_$name.json
      done ;;
    efficiency)
      python3 benchmarks/pipeline_efficiency.py --envs go1,halfcheetah --workers 1,15 --seconds 10 --no-doc \
          --out $OUT/efficiency.json ;;
    cheetah)
      $TTR --trainer appo --goal return:3000 --minutes 2.8 --out $WORK/appo_hc -- env=mujoco_halfcheetah \
          ppo.num_workers=15 experiment.device=cuda logging.console=none && cp $WORK/appo_hc/result.json $OUT/hc_appo.json
      $TTR --trainer rsl_rl --goal return:3000 --minutes 2.8 --out $WORK/rsl_hc -- --task halfcheetah --num_envs 16 \
          && cp $WORK/rsl_hc/result.json $OUT/hc_rsl_rl.json ;;
    learner)
      python3 benchmarks/learner_speed.py --repeats 5 --no-doc --out $OUT/learner.json ;;
    *) echo "unknown section $section" >&2; exit 2 ;;
  esac
done
