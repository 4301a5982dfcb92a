"""Checkpoints are written atomically and bad files are refused with a clear message, running no code."""

import os
import pickle
import subprocess
import sys

import pytest
import torch
from isaac_hydra_ext.utils.checkpoint import (
    CheckpointError,
    check_compatible,
    check_state_matches_model,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from isaac_hydra_ext.utils.run_dirs import latest_checkpoint

SPEC = {"obs_dim": 3, "act_dim": 1, "critic_obs_dim": 0}
MODEL = {"actor_hidden_dims": [64, 64], "critic_hidden_dims": [64, 64], "activation": "elu", "obs_normalization": True}


def _state(**kw):
    return {"model": {"w": torch.ones(3)}, "iteration": 7, "env_steps": 700, "env_spec": SPEC, "model_cfg": MODEL, **kw}


def test_roundtrip(tmp_path):
    path = tmp_path / "model_7.pt"
    save_checkpoint(str(path), _state())
    state = load_checkpoint(str(path))
    assert state["iteration"] == 7 and torch.equal(state["model"]["w"], torch.ones(3))
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp_")]


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "model_1.pt"
    save_checkpoint(str(path), _state())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(str(path))


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "model_1.pt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError, match=r"model_1.pt"):
        load_checkpoint(str(path))


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {_Evil.marker}",))


def test_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    _Evil.marker = marker
    path = tmp_path / "model_1.pt"
    torch.save({"format": "isaac_hydra_ext.appo", "payload": _Evil()}, path)
    with pytest.raises(CheckpointError, match="would need to run code"):
        load_checkpoint(str(path))
    assert not marker.exists()
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(CheckpointError):
        load_checkpoint(str(raw))
    assert not marker.exists()


def test_foreign_files_are_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"model_state_dict": {}, "iter": 3}, path)  # an rsl_rl checkpoint, say
    with pytest.raises(CheckpointError, match="not an isaac_hydra_ext APPO checkpoint"):
        load_checkpoint(str(path))
    save_checkpoint(str(path), _state())
    blob = torch.load(path, weights_only=True)
    blob["format_version"] = 99
    torch.save(blob, path)
    with pytest.raises(CheckpointError, match="format_version 99"):
        load_checkpoint(str(path))


def test_checkpoint_from_another_network_shape_is_refused(tmp_path):
    state = _state()
    other = dict(MODEL, actor_hidden_dims=[256, 128])
    with pytest.raises(CheckpointError, match=r"ppo.actor_hidden_dims: checkpoint \[64, 64\], this run \[256, 128\]"):
        check_compatible("x.pt", state, SPEC, other)
    with pytest.raises(CheckpointError, match="env obs_dim: checkpoint 3, this run 48"):
        check_compatible("x.pt", state, dict(SPEC, obs_dim=48), MODEL)
    check_compatible("x.pt", state, SPEC, dict(MODEL, actor_hidden_dims=(64, 64)))  # tuple == list


def _make_read_only(path) -> list[str]:
    """Make a directory unwritable; returns the command that undoes it. Root ignores mode bits, so as root the
    directory is made immutable (chattr +i), which binds root too."""
    if os.geteuid() != 0:
        os.chmod(path, 0o555)
        return ["chmod", "755", str(path)]
    res = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot make a directory read-only for root here: {res.stderr.strip()}")
    return ["chattr", "-i", str(path)]


def test_failed_write_to_read_only_dir_keeps_previous_checkpoint(tmp_path):
    ckpt_dir = tmp_path / "ro"
    ckpt_dir.mkdir()
    path = ckpt_dir / "model_1.pt"
    save_checkpoint(str(path), _state())
    undo = _make_read_only(ckpt_dir)
    try:
        with pytest.raises(CheckpointError, match="could not write checkpoint"):
            save_checkpoint(str(path), _state(iteration=8))
    finally:
        subprocess.run(undo, check=True)
    assert load_checkpoint(str(path))["iteration"] == 7
    assert os.listdir(ckpt_dir) == ["model_1.pt"]


def test_failed_write_under_file_size_limit_keeps_previous_checkpoint(tmp_path):
    # A full disk, simulated by RLIMIT_FSIZE in a child process: the write fails, the old file stays intact.
    path = tmp_path / "model_1.pt"
    save_checkpoint(str(path), _state())
    code = f"""
import resource, signal, torch
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
from isaac_hydra_ext.utils.checkpoint import save_checkpoint, CheckpointError
try:
    save_checkpoint({str(path)!r}, {{"model": {{"w": torch.ones(100000)}}, "iteration": 9, "env_steps": 1,
                    "env_spec": {{}}, "model_cfg": {{}}}})
except CheckpointError as e:
    print("REFUSED", e)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "REFUSED could not write checkpoint" in res.stdout, res.stderr
    assert load_checkpoint(str(path))["iteration"] == 7
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp_")]


def test_latest_and_pruning(tmp_path):
    exp = tmp_path / "exp"
    for run, its in (("2026-01-01_00-00-00", [5, 10]), ("2026-01-02_00-00-00", [50, 100, 150]), ("2026-01-03_x", [])):
        (exp / run).mkdir(parents=True)
        for it in its:
            save_checkpoint(str(exp / run / f"model_{it}.pt"), _state(iteration=it))
    assert latest_checkpoint(str(exp)).endswith("2026-01-02_00-00-00/model_150.pt")
    assert latest_checkpoint(str(exp), exclude_dir=str(exp / "2026-01-02_00-00-00")).endswith("model_10.pt")
    prune_checkpoints(str(exp / "2026-01-02_00-00-00"), keep_last=2)
    assert sorted(os.listdir(exp / "2026-01-02_00-00-00")) == ["model_100.pt", "model_150.pt"]
    assert latest_checkpoint(str(tmp_path / "missing")) is None


def _set_mtime(path, seconds):
    os.utime(path, ns=(int(seconds * 1e9), int(seconds * 1e9)))


def _write(run_dir, its, mtime0=None):
    run_dir.mkdir(parents=True, exist_ok=True)
    for k, it in enumerate(its):
        save_checkpoint(str(run_dir / f"model_{it}.pt"), _state(iteration=it))
        if mtime0 is not None:
            _set_mtime(run_dir / f"model_{it}.pt", mtime0 + k)


def test_latest_is_by_time_written_not_by_directory_name(tmp_path):
    # Regression: run directories were sorted by name, so any old ``multirun_*`` sweep beat every newer single run.
    exp = tmp_path / "exp"
    _write(exp / "multirun_2026-01-01_00-00-00" / "0", [100, 200], mtime0=1_700_000_000)
    _write(exp / "2026-03-01_00-00-00", [5, 10], mtime0=1_800_000_000)
    assert latest_checkpoint(str(exp)) == str(exp / "2026-03-01_00-00-00" / "model_10.pt")
    # and a sweep job written later than the single runs is found below multirun_*/<n>/
    _write(exp / "multirun_2026-04-01_00-00-00" / "3", [1], mtime0=1_900_000_000)
    assert latest_checkpoint(str(exp)) == str(exp / "multirun_2026-04-01_00-00-00" / "3" / "model_1.pt")
    # the starting run's own directory is skipped
    assert latest_checkpoint(str(exp), exclude_dir=str(exp / "multirun_2026-04-01_00-00-00" / "3")) == str(
        exp / "2026-03-01_00-00-00" / "model_10.pt"
    )


def test_pruning_honours_keep_last_in_a_directory_with_glob_metacharacters(tmp_path):
    # Regression: the path went into glob unescaped, so "[64,64]" was a character class, nothing matched and
    # nothing was ever pruned (the disk filled up).
    run_dir = tmp_path / "out*?" / "exp_[64,64]" / "2026-01-01_00-00-00"
    _write(run_dir, [10, 20, 30, 40])
    assert [os.path.basename(p) for p in list_checkpoints(str(run_dir))] == [f"model_{i}.pt" for i in (10, 20, 30, 40)]
    prune_checkpoints(str(run_dir), keep_last=2)
    assert sorted(os.listdir(run_dir)) == ["model_30.pt", "model_40.pt"]


def test_latest_is_found_in_an_experiment_with_glob_metacharacters(tmp_path):
    # Regression: os.walk found the run directory, but the glob inside it found nothing, so latest was None.
    exp = tmp_path / "exp_[64,64]"
    _write(exp / "2026-01-01_00-00-00", [3, 4])
    assert latest_checkpoint(str(exp)) == str(exp / "2026-01-01_00-00-00" / "model_4.pt")


def test_only_exact_checkpoint_names_count(tmp_path):
    run_dir = tmp_path / "run"
    _write(run_dir, [2])
    for name in (".tmp_abc.pt", "model_best.pt", "old_model_9.pt", "model_9.pt.bak"):
        (run_dir / name).write_bytes(b"x")
    (run_dir / "model_7.pt").mkdir()  # a directory with a checkpoint's name is not a checkpoint
    assert list_checkpoints(str(run_dir)) == [str(run_dir / "model_2.pt")]
    assert list_checkpoints(str(tmp_path / "missing")) == []


# ---- crafted payloads: the format keys are right, the values are not -------------------------------------------
CRAFTED = {
    "model_not_a_dict": ({"model": torch.ones(3)}, "model is a Tensor, expected a dict of tensors"),
    "model_value_not_a_tensor": ({"model": {"w": [1.0, 2.0]}}, "model['w'] is a list, expected a tensor"),
    "model_key_not_a_str": ({"model": {0: torch.ones(1)}}, "model has the key 0 (int), expected str keys"),
    "iteration_negative": ({"iteration": -1}, "iteration is -1, expected an int >= 0"),
    "iteration_a_string": ({"iteration": "7"}, "iteration is '7', expected an int >= 0"),
    "iteration_a_bool": ({"iteration": True}, "iteration is True, expected an int >= 0"),
    "env_steps_a_float": ({"env_steps": 700.0}, "env_steps is 700.0, expected an int >= 0"),
    "env_steps_a_tensor": ({"env_steps": torch.tensor(700)}, "env_steps is tensor(700), expected an int >= 0"),
    "env_spec_not_a_dict": ({"env_spec": [3, 1]}, "env_spec is a list, expected a dict"),
    "obs_dim_a_string": ({"env_spec": dict(SPEC, obs_dim="3")}, "env_spec.obs_dim is '3', expected an int >= 1"),
    "act_dim_missing": ({"env_spec": {"obs_dim": 3}}, "env_spec.act_dim is None, expected an int >= 1"),
    "act_dim_zero": ({"env_spec": dict(SPEC, act_dim=0)}, "env_spec.act_dim is 0, expected an int >= 1"),
    "critic_obs_dim_negative": ({"env_spec": dict(SPEC, critic_obs_dim=-2)}, "env_spec.critic_obs_dim is -2"),
    "model_cfg_not_a_dict": ({"model_cfg": "elu"}, "model_cfg is a str, expected a dict"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_payload_with_wrong_types_is_refused_in_one_line(tmp_path, case):
    override, expected = CRAFTED[case]
    path = tmp_path / "model_7.pt"
    save_checkpoint(str(path), _state(**override))  # format and format_version are right
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(str(path))
    message = str(info.value)
    assert message.startswith(f"checkpoint {path} has malformed contents: ") and expected in message, message
    assert "\n" not in message


def test_every_problem_of_a_payload_is_named(tmp_path):
    path = tmp_path / "model_7.pt"
    save_checkpoint(str(path), _state(iteration=-1, model_cfg=[]))
    with pytest.raises(CheckpointError, match=r"iteration is -1, expected an int >= 0; model_cfg is a list"):
        load_checkpoint(str(path))


class _Net(torch.nn.Module):
    """Shaped like the ActorCritic (a float64 normalizer buffer, an MLP), without depending on where it lives."""

    def __init__(self, hidden, obs_dim=3):
        super().__init__()
        self.register_buffer("obs_mean", torch.zeros(obs_dim, dtype=torch.float64))
        self.register_buffer("obs_count", torch.zeros((), dtype=torch.float64))
        dims = [obs_dim, *hidden, 1]
        self.mlp = torch.nn.Sequential(*[torch.nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])])


def _actor_critic(hidden):
    return _Net(hidden)


def test_a_real_model_checkpoint_passes_the_checks(tmp_path):
    model = _actor_critic([32, 32])
    path = tmp_path / "model_7.pt"
    save_checkpoint(str(path), _state(model=model.state_dict()))
    state = load_checkpoint(str(path))
    check_state_matches_model(str(path), state["model"], _actor_critic([32, 32]))


def test_state_with_other_tensor_shapes_is_refused_in_one_line(tmp_path):
    # The format keys and the model_cfg are right, the tensors are not: a crafted or mislabelled file.
    path = tmp_path / "model_7.pt"
    save_checkpoint(str(path), _state(model=_actor_critic([64, 32]).state_dict()))
    state = load_checkpoint(str(path))
    target = _actor_critic([32, 32])
    with pytest.raises(CheckpointError) as info:
        check_state_matches_model(str(path), state["model"], target)
    message = str(info.value)
    first = next(k for k, v in target.state_dict().items() if v.shape != state["model"][k].shape)
    assert message.startswith(
        f"checkpoint {path} does not fit this model: {first}: checkpoint [64, 3], this model [32, 3] (and "
    ), message
    assert "\n" not in message
    with pytest.raises(RuntimeError, match="size mismatch"):  # what torch would have said instead
        target.load_state_dict(state["model"])


def test_state_with_missing_or_extra_keys_is_refused_in_one_line():
    target = torch.nn.Sequential(torch.nn.Linear(3, 4))
    good = {k: v.clone() for k, v in target.state_dict().items()}
    check_state_matches_model("x.pt", good, target)
    check_state_matches_model("x.pt", good, target.state_dict())  # a state dict works as the reference too
    missing = {"0.weight": good["0.weight"]}
    head = r"^checkpoint x.pt does not fit this model: "
    with pytest.raises(CheckpointError, match=head + r"0.bias: missing in the checkpoint, this model \[4\]$"):
        check_state_matches_model("x.pt", missing, target)
    extra = dict(good, **{"1.weight": torch.zeros(2, 4)})
    with pytest.raises(CheckpointError, match=head + r"1.weight: checkpoint \[2, 4\], not in this model$"):
        check_state_matches_model("x.pt", extra, target)
