"""RolloutBuffer layout, gather order and sharing with a real child process."""

import math
import multiprocessing as mp

import pytest
import torch
from isaac_hydra_ext.storage.rollout_buffer import BatchGatherer, RolloutBuffer


def test_allocate_shapes_and_nan_sentinels():
    buf = RolloutBuffer.allocate(num_slots=4, steps=5, envs=3, obs_dim=2, act_dim=1, critic_obs_dim=6)
    assert buf.obs.shape == (4, 6, 3, 2) and buf.critic_obs.shape == (4, 6, 3, 6)
    assert buf.actions.shape == (4, 5, 3, 1) and buf.versions.shape == (4, 5)
    assert torch.isnan(buf.obs).all() and torch.isnan(buf.rewards).all()
    assert (buf.versions == -1).all()
    assert buf.nbytes == sum(t.numel() * t.element_size() for t in buf.tensors())


def test_gather_concatenates_slots_along_env_axis():
    buf = RolloutBuffer.allocate(num_slots=3, steps=2, envs=2, obs_dim=1, act_dim=1)
    for s in range(3):
        for t in range(3):
            for e in range(2):
                buf.obs[s, t, e, 0] = 100 * s + 10 * t + e
        buf.versions[s] = torch.tensor([s, s + 10])
    batch = BatchGatherer(buf, 2, "cpu").gather([2, 0])
    # env axis: slot 2's envs first, then slot 0's
    assert batch.obs.shape == (3, 4, 1)
    assert batch.obs[:, :, 0].tolist() == [[200, 201, 0, 1], [210, 211, 10, 11], [220, 221, 20, 21]]
    assert batch.versions.tolist() == [[2, 2, 0, 0], [12, 12, 10, 10]]
    # a copy: writing the slot afterwards does not change the batch
    buf.obs[2].fill_(-1)
    assert batch.obs[0, 0, 0] == 200
    # a preallocated batch: the next call reuses its memory
    assert BatchGatherer(buf, 2, "cpu").gather([0, 1]).obs.shape == batch.obs.shape


def test_poison_marks_slot_invalid():
    buf = RolloutBuffer.allocate(num_slots=2, steps=2, envs=1, obs_dim=1, act_dim=1)
    for t in buf.tensors():
        if t.dtype == torch.float32:
            t.zero_()
    buf.poison(1)
    assert torch.isnan(buf.obs[1]).all() and not torch.isnan(buf.obs[0]).any()


def _child_writes(buf: RolloutBuffer, slot: int, value: float) -> None:
    buf.rewards[slot].fill_(value)
    buf.versions[slot].fill_(7)


def test_shared_buffer_is_written_by_a_spawned_process():
    buf = RolloutBuffer.allocate(num_slots=2, steps=3, envs=2, obs_dim=1, act_dim=1, shared=True)
    p = mp.get_context("spawn").Process(target=_child_writes, args=(buf, 1, 4.5))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert (buf.rewards[1] == 4.5).all() and (buf.versions[1] == 7).all()
    assert math.isnan(float(buf.rewards[0, 0, 0]))


def test_batch_gatherer_handles_every_field_and_reuses_its_memory():
    torch.manual_seed(0)
    buf = RolloutBuffer.allocate(num_slots=4, steps=3, envs=2, obs_dim=5, act_dim=2, critic_obs_dim=3)
    for t in buf.tensors():
        if t.dtype == torch.float32:
            t.copy_(torch.randn_like(t))
        elif t.dtype == torch.bool:
            t.copy_(torch.rand(t.shape) < 0.3)
        else:
            t.copy_(torch.randint(0, 9, t.shape))
    gatherer = BatchGatherer(buf, num_slots=2, device="cpu")
    for slots in ([3, 1], [0, 2]):
        got = gatherer.gather(slots)
        for name in (
            "obs",
            "critic_obs",
            "actions",
            "log_probs",
            "rewards",
            "terminated",
            "truncated",
            "final_obs",
            "final_critic_obs",
        ):
            src = getattr(buf, name)
            for k, slot in enumerate(slots):  # slot k's envs are columns [k*B, (k+1)*B)
                assert torch.equal(getattr(got, name)[:, 2 * k : 2 * k + 2], src[slot]), name
        for k, slot in enumerate(slots):  # every env of a slot carries its step's version
            assert torch.equal(got.versions[:, 2 * k], buf.versions[slot])
            assert torch.equal(got.versions[:, 2 * k + 1], buf.versions[slot])
    assert gatherer.gather([1, 2]).obs.data_ptr() == got.obs.data_ptr()  # no new allocation
    with pytest.raises(ValueError, match="takes 2 slots"):
        gatherer.gather([1])
