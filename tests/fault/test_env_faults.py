"""Env faults through the real CLI: an env that raises in step or reset, or returns NaN/inf, under both
``ppo.on_env_error`` policies. The error names the worker, the env and the step; non-finite samples never reach
the learner; ``restart`` replaces the worker and the run finishes, ``raise`` stops the run (exit 1)."""

import re

import pytest
import torch
from conftest import FULL
from fault_cli import FAULTY, SMALL, read_summary, run, run_dirs

# fault -> (after, the message the error must contain, extra overrides, env steps of the restart run). The fault
# fires at the (after+1)-th call in the process that claims it first; with 4 envs per worker, the 41st env.step call
# is env 0 at env step 10 of that worker. The restart run's budget lets the replacement deliver after the fault.
FAULTS = {
    "raise_step": (
        40,
        r"env\.step raised at env step 10 \(in one of its envs 0\.\.3, or in an automatic reset\): "
        r"RuntimeError\('injected step failure'\)",
        [],
        256,
    ),
    "raise_reset": (
        0,
        r"env\.reset raised at env step 0 \(first reset\): RuntimeError\('injected reset failure'\)",
        [],
        256,
    ),
    "nan_obs": (40, r"env 0 of 4 returned a non-finite observation at env step 10 \(values \[nan, nan, nan\]", [], 256),
    "inf_reward": (40, r"env 0 of 4 returned a non-finite reward at env step 10 \(values \[inf\]", [], 256),
    # Issue 17: NaN only in the last observation of an episode cut by the time limit (10 steps here), which only
    # the final-observation array carries, and NaN in the privileged critic observation: both went unchecked in
    # the worker (the learner quietly dropped the samples; on_env_error=raise never fired).
    "nan_final_obs": (
        0,
        r"env 0 of 4 returned a non-finite final observation \(of an episode that ended\) at env "
        r"step 9 \(values \[nan, nan, nan\]",
        ["env.max_episode_steps=10", "+env.kwargs.episode_steps=10"],
        512,
    ),
    "nan_critic": (
        40,
        r"env 0 of 4 returned a non-finite critic observation at env step 10 \(values \[nan, nan, "
        r"nan, nan\]",
        ["+env.kwargs.critic=true"],
        256,
    ),
}
WORKER = r"worker (?P<w>[01]) \(pid (?P<pid>\d+), env\.id='fault_envs:FaultyPendulum-v0'\): "


def _args(tmp_path, fault, policy, steps):
    after, _, extra, _ = FAULTS.get(fault, (0, "", [], 0))
    return [
        "env=gym",
        FAULTY,
        *SMALL,
        f"+env.kwargs.fault={fault}",
        f"+env.kwargs.after={after}",
        f"+env.kwargs.only_pid_file={tmp_path / 'claimed'}",
        f"ppo.on_env_error={policy}",
        f"experiment.max_env_steps={steps}",
        "checkpoint.every_iterations=0",
        *extra,
    ]


def _claimer(tmp_path) -> int:
    return int((tmp_path / "claimed").read_text())


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_env_fault_with_raise_policy_stops_the_run_naming_worker_env_and_step(tmp_path, fault):
    expected = FAULTS[fault][1]
    code, out, err = run(tmp_path, _args(tmp_path, fault, "raise", 100_000))
    assert code == 1, err[-3000:]
    (run_dir,) = run_dirs(tmp_path)
    s = read_summary(run_dir)
    assert s["status"] == "failed" and s["worker_restarts"] == 0
    m = re.search(WORKER + expected, s["error"])
    assert m, s["error"][:2000]
    assert int(m["pid"]) == _claimer(tmp_path)  # the message names the process that really misbehaved
    assert "(ppo.on_env_error=raise stops the run; 'restart' would replace the worker)" in s["error"]
    first_error_line = next(ln for ln in err.splitlines() if ln.startswith("Error: "))
    assert re.search(WORKER + expected, first_error_line)  # the first line says it all; the traceback follows
    assert s["accounting"]["samples_dropped_nonfinite"] == 0
    ckpt = torch.load(s["last_checkpoint"], weights_only=True)  # the final checkpoint is written and finite
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())


# The restart path does not depend on which array was non-finite: CI runs it for the original four faults,
# IHE_FULL=1 also for the final and critic observations.
RESTART_FAULTS = sorted(FAULTS) if FULL else sorted(set(FAULTS) - {"nan_final_obs", "nan_critic"})


@pytest.mark.parametrize("fault", RESTART_FAULTS)
def test_env_fault_with_restart_policy_replaces_the_worker_and_finishes(tmp_path, fault):
    expected, steps = FAULTS[fault][1], FAULTS[fault][3]
    # The fault fires in the claimer's first rollout (its second for nan_final_obs), and an iteration takes one
    # rollout from each worker, so the run's budget always includes rollouts of the replacement.
    code, out, err = run(tmp_path, _args(tmp_path, fault, "restart", steps))
    assert code == 0, err[-3000:]
    (run_dir,) = run_dirs(tmp_path)
    s = read_summary(run_dir)
    assert s["status"] == "finished" and s["env_steps"] >= steps
    assert s["worker_restarts"] == 1
    m = re.search(r"restarting worker (?P<w0>[01]) \(restart 1/10\): " + WORKER + expected, out + err)
    assert m, (out + err)[-3000:]
    assert m["w0"] == m["w"] and int(m["pid"]) == _claimer(tmp_path)
    acc = s["accounting"]
    assert acc["samples_dropped_nonfinite"] == 0  # the failed rollout's samples never reached the learner
    assert acc["slots_poisoned"] >= 1 and acc["rollout_duplicates"] == 0 and acc["rollouts_after_a_gap"] == 0
    assert acc["rollouts_per_incarnation"].get(f"{m['w']}.1", 0) >= 1  # the replacement's rollouts were trained
    ckpt = torch.load(s["last_checkpoint"], weights_only=True)
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())


@pytest.mark.skipif(not FULL, reason="IHE_FULL=1: the same error path as raise_step, reached through an autoreset")
def test_reset_failure_inside_an_automatic_reset_names_the_step(tmp_path):
    # Pendulum episodes last 200 steps: the first reset (4 envs) is fine, the automatic reset at the end of the
    # first episode (env step 199) raises inside env.step.
    args = [
        a if not a.startswith("+env.kwargs.after=") else "+env.kwargs.after=4"
        for a in _args(tmp_path, "raise_reset", "raise", 100_000)
    ]
    code, out, err = run(tmp_path, args)
    assert code == 1, err[-3000:]
    s = read_summary(run_dirs(tmp_path)[0])
    assert re.search(
        WORKER + r"env\.step raised at env step 199 .*RuntimeError\('injected reset failure'\)", s["error"]
    ), s["error"][:2000]


# Issue 17: a worker whose env crashes natively (SIGSEGV inside the env's C code) or whose env constructor raises
# reported nothing through its pipe, so it counted as an internal failure and was restarted 10 times even under
# on_env_error=raise. Now a death by a signal the learner did not send, or before the worker's env was built, is
# the env's failure: raise stops the run at once.
CRASHES = {
    "segfault": (
        40,
        r"worker (?P<w>[01]) \(pid (?P<pid>\d+), env\.id='fault_envs:FaultyPendulum-v0'\) was killed "
        r"by signal 11 \(SIGSEGV\) without reporting an error",
    ),
    "raise_init": (0, WORKER + r"building its 4 envs raised: RuntimeError\('injected constructor failure'\)"),
}


@pytest.mark.parametrize("fault", sorted(CRASHES))
def test_native_crash_or_constructor_failure_with_raise_policy_stops_the_run_at_once(tmp_path, fault):
    after, expected = CRASHES[fault]
    args = [
        a if not a.startswith("+env.kwargs.after=") else f"+env.kwargs.after={after}"
        for a in _args(tmp_path, fault, "raise", 100_000)
    ]
    code, out, err = run(tmp_path, args)
    assert code == 1, err[-3000:]
    (run_dir,) = run_dirs(tmp_path)
    s = read_summary(run_dir)
    assert s["status"] == "failed" and s["worker_restarts"] == 0, s
    assert re.search(expected, s["error"]), s["error"][:2000]
    assert "(ppo.on_env_error=raise stops the run; 'restart' would replace the worker)" in s["error"]
    assert "Traceback" not in out + err.split("Error: ", 1)[0]  # nothing before the one Error line
    ckpt = torch.load(s["last_checkpoint"], weights_only=True)
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())
