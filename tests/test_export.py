"""Exported policies (TorchScript, ONNX) give the same actions as the checkpoint they came from."""

import sys

import numpy as np
import pytest
import torch
from isaac_hydra_ext.config import PPOConfig
from isaac_hydra_ext.models.actor_critic import ActorCritic
from isaac_hydra_ext.models.export import export_policy, load_policy
from isaac_hydra_ext.utils.checkpoint import CheckpointError, save_checkpoint


def _checkpoint(tmp_path, obs_dim=48, act_dim=12):
    cfg = PPOConfig(actor_hidden_dims=[64, 32], critic_hidden_dims=[16], activation="elu")
    model = ActorCritic(obs_dim, act_dim, 0, cfg)
    torch.manual_seed(0)
    model.policy.normalizer.update(torch.randn(500, obs_dim) * 3 + 1)  # a non-trivial normalizer
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    path = tmp_path / "model_3.pt"
    save_checkpoint(
        str(path),
        {
            "model": model.state_dict(),
            "iteration": 3,
            "env_steps": 300,
            "env_spec": {"obs_dim": obs_dim, "act_dim": act_dim, "critic_obs_dim": 0},
            "model_cfg": {
                "actor_hidden_dims": [64, 32],
                "critic_hidden_dims": [16],
                "activation": "elu",
                "obs_normalization": True,
            },
        },
    )
    return path, model


def test_loaded_policy_matches_the_trained_model(tmp_path):
    path, model = _checkpoint(tmp_path)
    loaded = load_policy(str(path))
    obs = torch.randn(32, 48) * 3
    with torch.no_grad():
        assert torch.equal(loaded.policy(obs), model.policy(obs))
    assert loaded.iteration == 3 and loaded.obs_dim == 48 and loaded.act_dim == 12


def test_torchscript_and_onnx_give_the_checkpoint_actions(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    path, model = _checkpoint(tmp_path)
    paths = export_policy(load_policy(str(path)).policy, str(tmp_path / "exported"))
    obs = torch.randn(17, 48) * 3 + 1
    with torch.no_grad():
        expected = model.policy(obs)
        scripted = torch.jit.load(paths["torchscript"])(obs)
    assert torch.allclose(scripted, expected, atol=1e-6)
    session = onnxruntime.InferenceSession(paths["onnx"])
    (onnx_actions,) = session.run(None, {"obs": obs.numpy()})
    assert np.allclose(onnx_actions, expected.numpy(), atol=1e-5)
    # the normalizer is folded in: raw observations far from zero still match
    far = torch.full((1, 48), 25.0)
    with torch.no_grad():
        assert np.allclose(session.run(None, {"obs": far.numpy()})[0], model.policy(far).numpy(), atol=1e-5)


def test_bad_checkpoint_path_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_policy(str(tmp_path / "nope.pt"))


def test_weights_of_the_wrong_shape_are_one_checkpoint_error(tmp_path):
    path, model = _checkpoint(tmp_path)
    state = torch.load(path, weights_only=True)
    state["model"]["policy.mean_net.2.weight"] = torch.zeros(7, 64)
    bad = tmp_path / "model_4.pt"
    save_checkpoint(str(bad), {k: v for k, v in state.items() if k not in ("format", "format_version")})
    with pytest.raises(CheckpointError) as err:
        load_policy(str(bad))
    message = str(err.value)
    assert "\n" not in message and "mean_net.2.weight: checkpoint [7, 64], this model [32, 64]" in message


def test_a_failing_onnx_exporter_is_reported_as_itself_and_leaves_no_partial_file(tmp_path, monkeypatch):
    from isaac_hydra_ext.models import export

    path, _ = _checkpoint(tmp_path)
    policy = load_policy(str(path)).policy

    def broken(module, args, f, **kwargs):
        with open(f, "wb") as out:
            out.write(b"half an onnx file")
        raise RuntimeError("exporter exploded\nsecond line of the trace")

    monkeypatch.setattr(torch.onnx, "export", broken)
    result = export.export_after_replay(policy, str(tmp_path / "exported"))
    assert list(result.paths) == ["torchscript"]
    (problem,) = result.problems
    assert problem.startswith("ONNX export to ") and "RuntimeError: exporter exploded second line" in problem
    assert "not installed" not in problem and "\n" not in problem
    assert sorted(p.name for p in (tmp_path / "exported").iterdir()) == ["policy.pt"]  # no policy.onnx, no .tmp_*


def test_missing_onnx_is_a_dependency_error_and_torchscript_is_still_written(tmp_path, monkeypatch):
    from isaac_hydra_ext.models import export

    path, _ = _checkpoint(tmp_path)
    policy = load_policy(str(path)).policy
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(export.ExportDependencyError, match=r"needs the onnx package.*isaac_hydra_ext\[export\]"):
        export.export_onnx(policy, str(tmp_path / "p.onnx"))
    result = export.export_after_replay(policy, str(tmp_path / "exported"))
    assert list(result.paths) == ["torchscript"] and result.problems[0].startswith("ONNX export skipped:")


def test_an_unwritable_export_directory_is_one_line_and_nothing_is_made(tmp_path):
    from isaac_hydra_ext.models import export

    path, _ = _checkpoint(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, so nothing can be made below it")
    result = export.export_after_replay(load_policy(str(path)).policy, str(blocker / "exported"))
    assert result.paths == {} and len(result.problems) == 1
    assert result.problems[0].startswith(f"export skipped: cannot create {blocker / 'exported'}")
