"""A non-finite loss in a real run: an env whose rewards are huge but finite (1e38, float32 tops out at 3.4e38).
The samples pass every check (they are finite), but the discounted returns overflow float32 in the learner, so
the loss turns NaN. Each such minibatch update is skipped and counted, the weights (normalizer statistics
included) stay at the last good version, and after ``ppo.max_nonfinite_updates`` in a row the run stops with a
clear message (exit 1)."""

import torch
from fault_cli import FAULTY, SMALL, read_summary, run, run_dirs
from isaac_hydra_ext.utils.checkpoint import list_checkpoints


def test_overflowing_returns_skip_updates_keep_last_good_weights_and_stop_the_run(tmp_path):
    # 4 epochs x 2 minibatches = 8 steps per iteration; the limit of 20 in a row lets two whole iterations be
    # skipped (and logged) before the third stops the run.
    code, out, err = run(
        tmp_path,
        [
            "env=gym",
            FAULTY,
            *SMALL,
            "+env.kwargs.fault=huge_reward",
            "+env.kwargs.after=300",
            "ppo.update_epochs=4",
            "ppo.max_nonfinite_updates=20",
            "experiment.max_env_steps=100000",
            "checkpoint.every_iterations=1",
            "checkpoint.keep_last=0",
            "ppo.on_env_error=raise",
        ],
    )
    assert code == 1, err[-3000:]
    (run_dir,) = run_dirs(tmp_path)
    s = read_summary(run_dir)
    assert s["status"] == "failed"
    assert s["error"].startswith("20 consecutive minibatch updates had a non-finite loss or gradient (loss=nan")
    assert s["error"].endswith("stopping (ppo.max_nonfinite_updates=20)")
    assert f"Error: {s['error']}" in err and "Traceback" not in err
    # the counter is logged: the last logged iteration was skipped entirely, and so was the one before
    last = s["last"]
    assert last["updates/minibatch_steps"] == 0 and last["updates/skipped_nonfinite"] == 8
    assert last["updates/skipped_nonfinite_total"] == 16
    # the samples themselves were fine: nothing was dropped as non-finite
    assert s["accounting"]["samples_dropped_nonfinite"] == 0
    assert s["accounting"]["rollouts_not_trained"] == 2  # the batch of the iteration that stopped the run

    # weights stay at the last good version: the checkpoints of the two skipped iterations, and the final one
    # written after the failure (it replaces model_<last>.pt), equal the last good one, every tensor finite
    paths = list_checkpoints(str(run_dir))
    states = {int(p.rsplit("_", 1)[1][:-3]): torch.load(p, weights_only=True) for p in paths}
    it = s["iterations"]
    assert it >= 3 and sorted(states)[-3:] == [it - 2, it - 1, it]
    good, skipped1, final = states[it - 2]["model"], states[it - 1]["model"], states[it]["model"]
    for k in good:
        assert torch.isfinite(final[k]).all(), k
        assert torch.equal(skipped1[k], good[k]) and torch.equal(final[k], good[k]), k
    assert torch.load(s["last_checkpoint"], weights_only=True)["iteration"] == it
