"""The asynchronous in-process sampler driven by hand and through the runner, with a tiny in-memory env.

What is checked: collection of the next rollout really happens while the learner holds the current one (no
timing: the "update" waits for it), every rollout acts with exactly the weights of the one version it is stamped
with, that version is 0 or 1 behind the learner's, the samples are counted by lag, a collector error reaches the
learner as EnvError, and stop() joins the thread in every state it can be in.
"""

from __future__ import annotations

import threading
import time

import pytest
import torch
from isaac_hydra_ext.config.schema import (
    EnvConfig,
    ExperimentConfig,
    LoggingConfig,
    ModelConfig,
    PPOConfig,
    SamplerConfig,
    TrainConfig,
)
from isaac_hydra_ext.models.actor_critic import build_policy, gaussian_log_prob
from isaac_hydra_ext.runners.builder import build_runner
from isaac_hydra_ext.sampling.async_inprocess import AsyncInProcessSampler, BusyClock
from isaac_hydra_ext.sampling.collector import EnvError
from isaac_hydra_ext.sampling.factory import make_sampler
from isaac_hydra_ext.sampling.samplers import InProcessSampler, shared_weights_for
from isaac_hydra_ext.storage.rollout_buffer import RolloutBuffer
from memory_envs import TargetReachEnv

THREAD_NAME = "ihe-inprocess-collector"
T, B = 5, 3


def collector_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


class FailingEnv(TargetReachEnv):
    """Raises in ``step`` once it has taken ``fail_at`` steps."""

    def __init__(self, num_envs: int, fail_at: int):
        super().__init__(num_envs)
        self.fail_at = fail_at

    def step(self, actions):
        if self.steps_taken >= self.fail_at:
            raise RuntimeError("simulator exploded")
        return super().step(actions)


class GatedEnv(TargetReachEnv):
    """Each ``step`` waits until the test opens the gate (a collector held inside a rollout)."""

    def __init__(self, num_envs: int):
        super().__init__(num_envs)
        self.gate = threading.Event()
        self.inside = threading.Event()

    def step(self, actions):
        self.inside.set()
        self.gate.wait(timeout=60)
        return super().step(actions)


def make(env, slots: int = 2, per_iteration: int = 1, stop_requested=lambda: False):
    policy = build_policy(1, 1, ModelConfig(actor_hidden_dims=[8], critic_hidden_dims=[8]))
    publisher = shared_weights_for(policy, shared=False)
    buffer = RolloutBuffer.allocate(slots, T, env.num_envs, 1, 1)
    sampler = AsyncInProcessSampler(
        env,
        buffer,
        publisher,
        slots,
        seed=3,
        clip_actions=False,
        learner_policy=policy,
        rollouts_per_iteration=per_iteration,
        stop_requested=stop_requested,
    )
    return sampler, policy


@pytest.mark.parametrize("slots,per_iteration", [(2, 1), (3, 1), (2, 2)])
def test_next_rollout_is_collected_during_the_update_with_weights_at_most_one_version_old(slots, per_iteration):
    env = TargetReachEnv(B)
    sampler, policy = make(env, slots, per_iteration)
    weights = {1: {k: v.clone() for k, v in policy.state_dict().items()}}  # version -> the weights it published
    lag_samples: dict[int, int] = {}
    sampler.start()
    try:
        for iteration in range(8):
            rollouts = sampler.next_rollouts(per_iteration)
            learner_version = sampler.policy_version
            assert learner_version == iteration + 1
            for r in rollouts:
                stamps = sampler.buffer.versions[r.slot]
                assert (stamps == r.last_version).all(), stamps  # one version per rollout
                lag = learner_version - r.last_version
                assert lag in (0, 1), (iteration, lag)
                lag_samples[lag] = lag_samples.get(lag, 0) + T * B
                # the rollout acted with exactly that version's weights: recompute mu's log-probabilities
                actor = build_policy(1, 1, ModelConfig(actor_hidden_dims=[8], critic_hidden_dims=[8]))
                actor.load_state_dict(weights[r.last_version])
                buf = sampler.buffer
                with torch.no_grad():
                    mean = actor(buf.obs[r.slot, :T])
                    expected = gaussian_log_prob(buf.actions[r.slot], mean, actor.log_std)
                torch.testing.assert_close(buf.log_probs[r.slot], expected)
            if iteration == 0:
                assert all(r.last_version == 1 for r in rollouts)  # the first iteration: lag 0
            sampler.release([r.slot for r in rollouts])
            # "update": the collector fills the next iteration's rollouts while the learner holds its weights
            wait_until(lambda: len(sampler.ready) >= per_iteration)
            with torch.no_grad():
                for p in policy.parameters():
                    p.add_(0.01 * (iteration + 1))
            version = sampler.publish()
            weights[version] = {k: v.clone() for k, v in policy.state_dict().items()}
        assert lag_samples.get(1, 0) > 0  # rollouts collected during an update were trained one version later
        stats = sampler.stats()
        assert stats.samples_by_lag == dict(sorted(lag_samples.items()))
        assert set(stats.samples_by_lag) <= {0, 1}
        assert stats.overlap is not None and 0.0 <= stats.overlap <= 1.0
    finally:
        sampler.stop()
    assert collector_threads() == [] and env.closed


def test_collector_waits_for_weights_rather_than_running_two_versions_ahead():
    # Nobody publishes: after the first iteration's rollout and one rollout for the next iteration (collected during
    # the update, still with version 1), the collector must wait for a publication even though a slot is free.
    env = TargetReachEnv(B)
    sampler, _ = make(env, slots=3, per_iteration=1)
    sampler.start()
    try:
        (first,) = sampler.next_rollouts(1)
        sampler.release([first.slot])
        wait_until(lambda: len(sampler.ready) == 1)
        time.sleep(0.3)
        assert len(sampler.ready) == 1 and env.steps_taken == 2 * T  # two rollouts, then waiting
        sampler.publish()
        wait_until(lambda: len(sampler.ready) == 2)
        assert [r.last_version for r in sampler.ready] == [1, 2]
    finally:
        sampler.stop()
    assert collector_threads() == []


def test_collector_error_reaches_the_learner_as_env_error_and_the_thread_is_gone():
    env = FailingEnv(B, fail_at=T + 2)  # the first rollout is fine, the second fails at its 3rd step
    sampler, _ = make(env)
    sampler.start()
    try:
        (first,) = sampler.next_rollouts(1)
        sampler.release([first.slot])
        with pytest.raises(EnvError, match=r"env\.step raised at env step 7 .*simulator exploded"):
            sampler.next_rollouts(1)
    finally:
        sampler.stop()
    assert collector_threads() == [] and env.closed


def test_unexpected_collector_error_is_wrapped_in_env_error():
    env = TargetReachEnv(B)
    sampler, _ = make(env)
    sampler.subscriber.refresh = lambda timeout_s=5.0: (_ for _ in ()).throw(TimeoutError("publisher stuck"))
    sampler.start()
    try:
        with pytest.raises(EnvError, match="in-process collector thread failed: TimeoutError: publisher stuck"):
            sampler.next_rollouts(1)
    finally:
        sampler.stop()
    assert collector_threads() == []


def test_stop_joins_a_collector_waiting_for_slots():
    env = TargetReachEnv(B)
    sampler, _ = make(env, slots=2)
    sampler.start()
    wait_until(lambda: len(sampler.ready) == 2)  # both slots full, nobody takes them
    sampler.stop()
    assert collector_threads() == [] and env.closed


def test_stop_joins_a_collector_inside_a_rollout_and_does_not_announce_it():
    env = GatedEnv(B)
    sampler, _ = make(env)
    sampler.start()
    assert env.inside.wait(timeout=30)  # the collector is inside env.step of its first rollout
    stopper = threading.Thread(target=sampler.stop)
    stopper.start()
    wait_until(lambda: sampler.stopping)
    env.gate.set()  # the step returns; the collector sees the stop at its next step
    stopper.join(timeout=30)
    assert not stopper.is_alive()
    assert collector_threads() == [] and env.closed
    assert len(sampler.ready) == 0 and env.steps_taken < T  # the partial rollout was dropped


def test_stop_in_a_hurry_leaves_a_hung_step_behind_without_closing_its_env():
    env = GatedEnv(B)  # env.step never returns until the gate opens: a hung simulator
    hurry = threading.Event()
    sampler, _ = make(env)
    sampler.hurry = hurry.is_set
    sampler.start()
    assert env.inside.wait(timeout=30)
    threading.Timer(0.3, hurry.set).start()  # a further Ctrl-C while stop() waits
    sampler.stop()
    assert sampler.thread.is_alive() and sampler.thread.daemon and not env.closed
    env.gate.set()  # the step returns; the thread sees the stop at its next step and ends
    sampler.thread.join(timeout=30)
    assert collector_threads() == [] and len(sampler.ready) == 0


def test_stop_request_ends_the_wait_for_rollouts():
    env = GatedEnv(B)
    requested = threading.Event()
    sampler, _ = make(env, stop_requested=requested.is_set)
    sampler.start()
    try:
        threading.Timer(0.2, requested.set).start()
        assert sampler.next_rollouts(1) is None
    finally:
        env.gate.set()
        sampler.stop()
    assert collector_threads() == []


def test_stop_before_start_closes_the_env():
    env = TargetReachEnv(B)
    sampler, _ = make(env)
    sampler.stop()
    assert env.closed and collector_threads() == []


def test_busy_clock_measures_the_overlap_with_a_window():
    clock = BusyClock()
    clock._done.extend([(1.0, 2.0), (3.0, 5.0)])
    assert clock.busy_within(0.0, 10.0) == 3.0
    assert clock.busy_within(1.5, 4.0) == 0.5 + 1.0  # [1.5, 2] and [3, 4]
    assert clock.busy_within(2.0, 3.0) == 0.0
    clock.forget_before(2.5)
    assert list(clock._done) == [(3.0, 5.0)]


# ---- the factory and the runner ----------------------------------------------------------------------------------
def _sections(mode: str):
    return (
        SamplerConfig(mode=mode, num_workers=0, envs_per_worker=B, steps_per_env=T),
        ModelConfig(actor_hidden_dims=[8], critic_hidden_dims=[8]),
    )


@pytest.mark.parametrize("mode,kind", [("async", AsyncInProcessSampler), ("sync", InProcessSampler)])
def test_factory_picks_the_in_process_sampler_by_mode(mode, kind):
    sampler_cfg, model_cfg = _sections(mode)
    env = TargetReachEnv(B)
    policy = build_policy(1, 1, model_cfg)
    sampler = make_sampler(
        sampler_cfg, model_cfg, EnvConfig(id="memory"), env.spec, policy, 0, lambda: False, envs=[env]
    )
    try:
        assert type(sampler) is kind and sampler.mode == mode
    finally:
        sampler.stop()


def config(tmp_path, mode: str, iterations: int) -> TrainConfig:
    return TrainConfig(
        env=EnvConfig(id="memory:TargetReach", clip_actions=False),
        ppo=PPOConfig(
            mode=mode,
            num_workers=0,
            envs_per_worker=16,
            steps_per_env=20,
            batch_size=64,
            actor_hidden_dims=[32],
            critic_hidden_dims=[32],
            learning_rate=3e-3,
            gamma=0.9,
        ),
        logging=LoggingConfig(tensorboard=False, console="none"),
        experiment=ExperimentConfig(output_dir=str(tmp_path), max_iterations=iterations, device="cpu", seed=5),
    )


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_runner_reports_mode_lag_counts_and_overlap_and_learns(tmp_path, mode):
    import json

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = TargetReachEnv(16)
    runner = build_runner(config(tmp_path, mode, 40), str(run_dir), env.spec, envs=[env])
    summary = runner.train()
    assert summary["status"] == "finished" and summary["iterations"] == 40
    assert summary["mode"] == mode
    assert ("collector thread" in summary["sampler"]) == (mode == "async")
    acc = summary["accounting"]
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 40
    if mode == "async":
        assert set(acc["samples_by_lag"]) <= {"0", "1"}
        assert sum(acc["samples_by_lag"].values()) == acc["samples_total"] == acc["samples_used"] == 40 * 16 * 20
        assert all(line["lag/max"] <= 1 for line in lines)  # every iteration's samples, as the update saw them
        assert acc["samples_by_lag"]["0"] >= 16 * 20  # the first rollout
    else:
        assert "samples_by_lag" not in acc and all(line["lag/max"] == 0 for line in lines)
        assert all(line["perf/overlap"] == 0.0 for line in lines)
    assert all(0.0 <= line["perf/overlap"] <= 1.0 and line["perf/collector_busy_s"] > 0 for line in lines)
    assert summary["mean_return"] > -3.5, summary["mean_return"]  # random: about -6.7
    assert collector_threads() == [] and env.closed


@pytest.mark.parametrize("mode,cores,expected", [("async", 2, 1), ("async", 16, 15), ("async", 1, 1), ("sync", 2, 2)])
def test_learner_leaves_a_core_to_the_collector_thread(monkeypatch, mode, cores, expected):
    from isaac_hydra_ext.runners import builder

    monkeypatch.setattr(builder, "available_cores", lambda: cores)
    cfg = TrainConfig(ppo=PPOConfig(mode=mode, num_workers=0))
    assert builder.learner_threads(cfg) == expected
    cfg.experiment.torch_threads = 3  # an explicit setting wins
    assert builder.learner_threads(cfg) == 3
