"""``checkpoint.resume=<bad file>`` through the real CLI: a clear one-line error naming the file, exit code 1 (2 when
the setting names no checkpoint at all: a missing path, an empty directory, ``latest`` with no run),
no traceback, no worker started, nothing written over the bad file, and no code run from a malicious pickle."""

import dataclasses
import hashlib
import os
import pickle
import random

import pytest
import torch
from conftest import FULL, compose
from fault_cli import SLOW, SMALL, pids_in, read_summary, run, run_dirs
from isaac_hydra_ext.appo.algorithm import APPO
from isaac_hydra_ext.envs.factory import probe_env_spec
from isaac_hydra_ext.models.actor_critic import ActorCritic
from isaac_hydra_ext.utils.checkpoint import MODEL_SHAPE_KEYS, save_checkpoint

BASE = ["env=gym", SLOW, "+env.kwargs.delay_s=0", *SMALL]


def _real_checkpoint(path, overrides=(), **changes):
    """A checkpoint as the runner writes it (same keys, real model and optimizer state) for the BASE config.

    ``changes`` replace top-level entries after the real ones are made (a crafted file that passes the format checks).
    """
    cfg = compose(["env=gym", SLOW, *SMALL, *overrides])
    spec = probe_env_spec(cfg.env)
    model = ActorCritic(spec.obs_dim, spec.act_dim, spec.critic_obs_dim, cfg.ppo)
    alg = APPO(model, cfg.ppo, torch.device("cpu"))
    state = {
        "model": model.state_dict(),
        **alg.state_dict(),
        "iteration": 3,
        "env_steps": 384,
        "policy_version": 4,
        "wall_time_s": 1.0,
        "env_spec": dataclasses.asdict(spec),
        "model_cfg": {k: getattr(cfg.ppo, k) for k in MODEL_SHAPE_KEYS},
        "config_yaml": "",
        "episode_returns": [],
        "episode_lengths": [],
    }
    for key, change in changes.items():
        state[key] = change(state[key]) if callable(change) else change
    save_checkpoint(str(path), state)


def _reshaped_first_tensor(model_state):
    key = next(iter(k for k, v in model_state.items() if v.dim() == 2))
    return {**model_state, key: torch.zeros(7, 3)}  # the recorded network shape is right, this tensor is not


def _bad_optimizer_state(opt):
    return {**opt, "state": {0: {"step": torch.tensor(1.0), "exp_avg": torch.zeros(5), "exp_avg_sq": torch.zeros(5)}}}


class _RunsCode:
    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _make(kind, path, tmp_path):
    if kind == "truncated":
        _real_checkpoint(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "random_bytes":
        # seeded: some random byte strings start with a pickle opcode and read as a truncated legacy checkpoint
        path.write_bytes(random.Random(0).randbytes(4096))
    elif kind == "other_network_shape":
        _real_checkpoint(path, ["ppo.actor_hidden_dims=[16]"])
    elif kind == "runs_code_torch_save":
        _RunsCode.marker = str(tmp_path / "pwned")
        torch.save({"format": "isaac_hydra_ext.appo", "model": _RunsCode()}, path)
    elif kind == "crafted_tensor_shape":
        _real_checkpoint(path, model=_reshaped_first_tensor)
    elif kind == "crafted_optimizer_state":
        _real_checkpoint(path, optimizer=_bad_optimizer_state)
    elif kind == "crafted_value_type":
        _real_checkpoint(path, learning_rate="fast")
    elif kind == "other_env":
        _real_checkpoint(path, env_id="Pendulum-v1")  # the same shapes as SlowPendulum-v0
    elif kind == "runs_code_raw_pickle":
        _RunsCode.marker = str(tmp_path / "pwned")
        path.write_bytes(pickle.dumps(_RunsCode(), protocol=2))


CASES = {
    "truncated": "is corrupt or truncated (",  # torch says RuntimeError or OSError, depending on where it is cut
    "random_bytes": "is corrupt or not a PyTorch checkpoint: the safe loader (torch.load weights_only=True) could "
    "not read it. Nothing was executed.",
    "other_network_shape": "does not fit this run's network: ppo.actor_hidden_dims: checkpoint [16], this run [32, 32]",
    "runs_code_torch_save": "was refused: it is not a plain tensor/number file and would need to run code to load "
    "(torch.load weights_only=True). Nothing was executed. Detail: Trying to load unsupported "
    "GLOBAL posix.system",
    "runs_code_raw_pickle": "would need to run code to load (torch.load weights_only=True). Nothing was executed. "
    "Detail: Trying to load unsupported GLOBAL posix.system",
    "missing": "does not exist",
    # Issue 17: files that pass the format checks but hold wrong shapes or types (before: a RuntimeError traceback
    # from load_state_dict, or a crash at the first optimizer step mid-run), and a checkpoint of another env with
    # the same shapes (before: resumed without a word).
    "crafted_tensor_shape": "does not fit this model: ",
    "crafted_optimizer_state": "has malformed contents: optimizer state exp_avg of parameter 0 has shape [5], the "
    "parameter",
    "crafted_value_type": "has malformed contents: ValueError: could not convert string to float: 'fast'",
    "other_env": "was trained on env.id='Pendulum-v1', this run is env.id='fault_envs:SlowPendulum-v0': resuming it "
    "on another env is refused",
}


# CI: the kinds of bad file; IHE_FULL=1 adds a raw (non-zip) pickle and a missing file.
KINDS = (
    sorted(CASES)
    if FULL
    else [
        "crafted_optimizer_state",
        "crafted_tensor_shape",
        "crafted_value_type",
        "other_env",
        "other_network_shape",
        "random_bytes",
        "runs_code_torch_save",
        "truncated",
    ]
)


@pytest.mark.parametrize("kind", KINDS)
def test_resume_from_a_bad_checkpoint_fails_clearly_and_starts_nothing(tmp_path, kind):
    path = tmp_path / "model_3.pt"
    _make(kind, path, tmp_path)
    before = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    pid_log = tmp_path / "env_pids"
    code, out, err = run(
        tmp_path,
        [*BASE, "experiment.max_env_steps=256", f"+env.kwargs.pid_log={pid_log}", f"checkpoint.resume={path}"],
        timeout=120,
    )
    # a sound checkpoint this configuration does not fit is a configuration error (2), a damaged file is not (1)
    assert code == (2 if kind in ("other_network_shape", "other_env") else 1), err[-3000:]
    errors = [ln for ln in err.splitlines() if ln.startswith("Error: ")]
    assert len(errors) == 1, err
    assert errors[0].startswith(f"Error: checkpoint {path} ") and CASES[kind] in errors[0], errors[0]
    assert "Traceback" not in out + err
    assert len(pids_in(pid_log)) == 1  # only the learner built an env (to read its shapes): no worker started
    assert not list(tmp_path.joinpath("runs").rglob("model_*.pt"))  # no checkpoint written
    if before is not None:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the bad file is left as it was
    assert not (tmp_path / "pwned").exists()  # and no code in it ran


@pytest.mark.skipif(not FULL, reason="IHE_FULL=1")
def test_resume_latest_with_no_checkpoint_fails_clearly(tmp_path):
    code, out, err = run(tmp_path, [*BASE, "experiment.max_env_steps=256", "checkpoint.resume=latest"], timeout=120)
    assert code == 2 and "Traceback" not in out + err  # names nothing to resume: a configuration error
    assert "Error: checkpoint.resume=latest: no model_<iteration>.pt under " in err


def test_resume_from_the_same_kind_of_file_intact_works(tmp_path):
    # The control of the cases above: the checkpoint they were made from loads, and the run continues from it.
    path = tmp_path / "model_3.pt"
    _real_checkpoint(path)
    code, out, err = run(tmp_path, [*BASE, "experiment.max_env_steps=512", f"checkpoint.resume={path}"], timeout=180)
    assert code == 0, err[-3000:]
    s = read_summary(run_dirs(tmp_path)[0])
    assert s["resumed_from"] == str(path) and s["iterations"] == 3 + 1 and s["env_steps"] == 384 + 128


def test_another_env_resumes_when_allowed_explicitly(tmp_path):
    path = tmp_path / "model_3.pt"
    _real_checkpoint(path, env_id="Pendulum-v1")
    code, out, err = run(
        tmp_path,
        [*BASE, "experiment.max_env_steps=512", f"checkpoint.resume={path}", "checkpoint.allow_env_change=true"],
        timeout=180,
    )
    assert code == 0, err[-3000:]
    assert "resuming a checkpoint of env.id='Pendulum-v1' on env.id='fault_envs:SlowPendulum-v0'" in out + err
    s = read_summary(run_dirs(tmp_path)[0])
    assert s["resumed_from"] == str(path) and s["iterations"] == 3 + 1


def test_a_run_directory_resumes_from_its_newest_checkpoint_and_an_empty_one_is_named(tmp_path):
    # Issue 17: a checkpoint given as a directory was reported as "does not exist".
    run_dir = tmp_path / "some_run"
    run_dir.mkdir()
    _real_checkpoint(run_dir / "model_3.pt")
    code, out, err = run(tmp_path, [*BASE, "experiment.max_env_steps=512", f"checkpoint.resume={run_dir}"], timeout=180)
    assert code == 0, err[-3000:]
    assert read_summary(run_dirs(tmp_path)[0])["resumed_from"] == str(run_dir / "model_3.pt")
    empty = tmp_path / "empty_run"
    empty.mkdir()
    code, out, err = run(tmp_path, [*BASE, f"checkpoint.resume={empty}"], timeout=180)
    assert code == 2 and "Traceback" not in out + err  # names nothing to resume: a configuration error
    assert f"Error: checkpoint.resume={empty}: the directory {empty} holds no model_<iteration>.pt" in err
    missing = tmp_path / "no_such_model.pt"
    code, out, err = run(tmp_path, [*BASE, f"checkpoint.resume={missing}"], timeout=180)
    assert code == 2 and "Traceback" not in out + err
    assert f"Error: checkpoint {missing} does not exist (checkpoint.resume={missing}: pass" in err
