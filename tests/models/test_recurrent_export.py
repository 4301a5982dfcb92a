"""A recurrent checkpoint: exported (TorchScript, ONNX) steps reproduce its actions over a recorded episode, and
resuming it with other memory settings is refused in one line."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from isaac_hydra_ext.config.schema import EnvConfig, ExperimentConfig, LoggingConfig, PPOConfig, TrainConfig
from isaac_hydra_ext.envs.replay import replay
from isaac_hydra_ext.models.export import export_policy, load_policy
from isaac_hydra_ext.models.recurrent import RecurrentGaussianPolicy, StatefulPolicy
from isaac_hydra_ext.runners.builder import build_runner
from isaac_hydra_ext.utils.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from memory_envs import TargetReachEnv

HAS_ORT = importlib.util.find_spec("onnxruntime") is not None


def _config(tmp_path, **ppo) -> TrainConfig:
    base = dict(
        mode="serial",
        num_workers=1,
        envs_per_worker=4,
        steps_per_env=16,
        batch_size=32,
        actor_hidden_dims=[16],
        critic_hidden_dims=[16],
        rnn_type="lstm",
        rnn_hidden_dim=8,
        rnn_num_layers=2,
    )
    base.update(ppo)
    return TrainConfig(
        env=EnvConfig(id="memory:TargetReach", clip_actions=False),
        ppo=PPOConfig(**base),
        logging=LoggingConfig(tensorboard=False, console="none", curves=False),
        experiment=ExperimentConfig(output_dir=str(tmp_path), max_iterations=2, device="cpu", seed=5),
    )


def _train(tmp_path, **ppo) -> str:
    run_dir = tmp_path / "run"
    run_dir.mkdir(parents=True)
    envs = [TargetReachEnv(4)]
    runner = build_runner(_config(tmp_path, **ppo), str(run_dir), envs[0].spec, envs=envs)
    runner.train()
    return str(run_dir / "model_2.pt")


class _Recorder:
    """Wraps the stateful policy replay steps with; records observations, actions and done flags."""

    def __init__(self, policy: StatefulPolicy):
        self.policy, self.obs, self.actions, self.dones = policy, [], [], []

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        actions = self.policy(obs)
        self.obs.append(obs.clone())
        self.actions.append(actions.clone())
        return actions

    def reset(self, done: torch.Tensor) -> None:
        self.dones.append(done.clone())
        self.policy.reset(done)


@pytest.mark.parametrize("rnn_type", ["lstm", "gru"])
def test_exported_steps_reproduce_the_checkpoint_actions_over_a_recorded_episode(tmp_path, rnn_type):
    path = _train(tmp_path, rnn_type=rnn_type)
    state = load_checkpoint(path)
    assert {k: state["model_cfg"][k] for k in ("rnn_type", "rnn_hidden_dim", "rnn_num_layers")} == {
        "rnn_type": rnn_type,
        "rnn_hidden_dim": 8,
        "rnn_num_layers": 2,
    }
    loaded = load_policy(path)
    assert isinstance(loaded.policy, RecurrentGaussianPolicy)
    recorder = _Recorder(StatefulPolicy(loaded.policy))
    report = replay(TargetReachEnv(3), recorder, steps=30, seed=2)  # one 20-step episode and part of the next
    assert report.episodes == 3 and any(d.any() for d in recorder.dones)
    paths = export_policy(loaded.policy, str(tmp_path / "exported"))

    lstm = rnn_type == "lstm"
    scripted = torch.jit.load(paths["torchscript"])
    session = None
    if HAS_ORT:  # run the ONNX graph itself
        import onnxruntime

        session = onnxruntime.InferenceSession(paths["onnx"])
        assert [i.name for i in session.get_inputs()] == (["obs", "h_in", "c_in"] if lstm else ["obs", "h_in"])
        assert [o.name for o in session.get_outputs()] == (
            ["actions", "h_out", "c_out"] if lstm else ["actions", "h_out"]
        )
    else:  # no runtime here: the graph must at least be a valid ONNX model with the named inputs and outputs
        import onnx

        model = onnx.load(paths["onnx"])
        onnx.checker.check_model(model)
        assert [i.name for i in model.graph.input] == (["obs", "h_in", "c_in"] if lstm else ["obs", "h_in"])
        assert [o.name for o in model.graph.output] == (["actions", "h_out", "c_out"] if lstm else ["actions", "h_out"])

    zeros = torch.zeros(2, 3, 8)  # (num_layers, envs, rnn_hidden_dim)
    ts_state = [zeros.clone(), zeros.clone()] if lstm else [zeros.clone()]
    ort_state = [s.numpy().copy() for s in ts_state]
    for obs, expected, done in zip(recorder.obs, recorder.actions, recorder.dones):
        actions, *ts_state = scripted(obs, *ts_state)
        torch.testing.assert_close(actions, expected, rtol=0, atol=1e-5)
        if session is not None:
            names = ["obs", "h_in", "c_in"][: 1 + len(ort_state)]
            ort_actions, *ort_state = session.run(None, dict(zip(names, [obs.numpy(), *ort_state])))
            np.testing.assert_allclose(ort_actions, expected.numpy(), rtol=0, atol=1e-5)
            ort_state = [np.where(done.numpy()[None, :, None], 0.0, s).astype(np.float32) for s in ort_state]
        ts_state = [torch.where(done.view(1, -1, 1), 0.0, s) for s in ts_state]  # a new episode: zero state


def test_resuming_with_other_memory_settings_is_one_clear_error(tmp_path):
    path = _train(tmp_path / "lstm")
    for change, expected in (
        (dict(rnn_type="none"), "ppo.rnn_type: checkpoint lstm, this run none"),
        (dict(rnn_type="gru"), "ppo.rnn_type: checkpoint lstm, this run gru"),
        (dict(rnn_hidden_dim=16), "ppo.rnn_hidden_dim: checkpoint 8, this run 16"),
    ):
        cfg = _config(tmp_path, **change)
        run_dir = tmp_path / f"resume_{len(change)}_{next(iter(change.values()))}"
        run_dir.mkdir()
        envs = [TargetReachEnv(4)]
        with pytest.raises(CheckpointError) as err:
            build_runner(cfg, str(run_dir), envs[0].spec, resume_path=path, envs=envs)
        message = str(err.value)
        assert expected in message and "\n" not in message, message
        assert "ppo.rnn_*" in message


def test_a_checkpoint_whose_memory_settings_do_not_fit_its_weights_is_refused_for_play(tmp_path):
    path = _train(tmp_path)
    state = load_checkpoint(path)
    state["model_cfg"]["rnn_type"] = "none"  # an LSTM's weights under a feed-forward setting
    bad = tmp_path / "model_9.pt"
    save_checkpoint(str(bad), {k: v for k, v in state.items() if k not in ("format", "format_version")})
    with pytest.raises(CheckpointError, match=r"does not fit this model: .*memory"):
        load_policy(str(bad))
