"""GAE and V-trace against hand-computed references (T=3, one env)."""

import math

import pytest
import torch
from isaac_hydra_ext.appo.returns import bootstrap_next_values, gae, vtrace

# Shared example: gamma 0.9; rewards r = [1, 2, 3]; values V(s_0..s_2) = [0.5, 1.0, 1.5]; V(s_3) = 2.0.
R = torch.tensor([[1.0], [2.0], [3.0]])
V = torch.tensor([[0.5], [1.0], [1.5]])
V_NEXT = torch.tensor([[1.0], [1.5], [2.0]])
NO = torch.zeros(3, 1, dtype=torch.bool)


def col(*xs):
    return torch.tensor(xs).reshape(-1, 1)


def test_gae_no_episode_end():
    # delta = [1 + .9*1 - .5, 2 + .9*1.5 - 1, 3 + .9*2 - 1.5] = [1.4, 2.35, 3.3]; gamma*lam = 0.72
    # A2 = 3.3; A1 = 2.35 + .72*3.3 = 4.726; A0 = 1.4 + .72*4.726 = 4.80272
    adv, ret = gae(R, V, V_NEXT, NO, gamma=0.9, lam=0.8)
    assert torch.allclose(adv, col(4.80272, 4.726, 3.3), atol=1e-5)
    assert torch.allclose(ret, col(5.30272, 5.726, 4.8), atol=1e-5)


def test_gae_time_out_bootstraps_from_final_observation():
    # Truncated at t=1 with V(final obs) = 10: V'_1 = 10 (not V(s_2), which belongs to the next episode).
    # delta_1 = 2 + .9*10 - 1 = 10; the recursion is cut: A1 = 10; A0 = 1.4 + .72*10 = 8.6
    truncated = col(False, True, False).bool()
    next_v = bootstrap_next_values(V_NEXT, col(0.0, 10.0, 0.0), NO, truncated)
    assert torch.equal(next_v, col(1.0, 10.0, 2.0))
    adv, _ = gae(R, V, next_v, truncated, gamma=0.9, lam=0.8)
    assert torch.allclose(adv, col(8.6, 10.0, 3.3), atol=1e-5)


def test_gae_termination_does_not_bootstrap():
    # Terminated at t=1: V'_1 = 0, delta_1 = 2 - 1 = 1; A1 = 1; A0 = 1.4 + .72*1 = 2.12
    terminated = col(False, True, False).bool()
    next_v = bootstrap_next_values(V_NEXT, col(0.0, 10.0, 0.0), terminated, NO)
    assert torch.equal(next_v, col(1.0, 0.0, 2.0))
    adv, _ = gae(R, V, next_v, terminated, gamma=0.9, lam=0.8)
    assert torch.allclose(adv, col(2.12, 1.0, 3.3), atol=1e-5)


def test_truncation_and_termination_give_different_advantages():
    flags = col(False, True, False).bool()
    final = col(0.0, 10.0, 0.0)
    a_trunc, _ = gae(R, V, bootstrap_next_values(V_NEXT, final, NO, flags), flags, 0.9, 0.8)
    a_term, _ = gae(R, V, bootstrap_next_values(V_NEXT, final, flags, NO), flags, 0.9, 0.8)
    assert not torch.allclose(a_trunc, a_term)


def test_vtrace_hand_computed():
    # lam = 1 (the paper's V-trace), rho_bar = c_bar = 1, pi/mu = [0.5, 2, 1] -> rho = c = [0.5, 1, 1]
    # t=2: vs2 - V2 = 3.3;                       A2 = 3.3
    # t=1: carried = .9*1*3.3 = 2.97;            A1 = 2.35 + 2.97 = 5.32;  vs1 - V1 = 1*2.35 + 2.97 = 5.32
    # t=0: carried = .9*.5*5.32 = 2.394;         A0 = 1.4 + 2.394 = 3.794; vs0 - V0 = .5*1.4 + 2.394 = 3.094
    # Paper's sum for s=0: .7 + .9*.5*2.35 + .81*.5*3.3 = .7 + 1.0575 + 1.3365 = 3.094
    log_rhos = torch.log(col(0.5, 2.0, 1.0))
    adv, vs = vtrace(R, V, V_NEXT, NO, log_rhos, gamma=0.9, lam=1.0, rho_clip=1.0, c_clip=1.0)
    assert torch.allclose(vs, col(3.594, 6.32, 4.8), atol=1e-5)
    assert torch.allclose(adv, col(3.794, 5.32, 3.3), atol=1e-5)


def test_vtrace_clips_importance_weights():
    # A huge ratio at t=1 must count as rho_bar = 1: same result as a ratio of exactly 1.
    big = torch.log(col(0.5, 50.0, 1.0))
    one = torch.log(col(0.5, 1.0, 1.0))
    for a, b in zip(vtrace(R, V, V_NEXT, NO, big, 0.9, 1.0), vtrace(R, V, V_NEXT, NO, one, 0.9, 1.0)):
        assert torch.allclose(a, b)


@pytest.mark.parametrize("lam", [0.0, 0.8, 0.95, 1.0])
def test_vtrace_on_policy_equals_gae(lam):
    torch.manual_seed(0)
    T, N = 7, 5
    r, v, nv = torch.randn(T, N), torch.randn(T, N), torch.randn(T, N)
    dones = torch.rand(T, N) < 0.2
    adv_g, ret_g = gae(r, v, nv, dones, 0.97, lam)
    adv_v, vs = vtrace(r, v, nv, dones, torch.zeros(T, N), 0.97, lam)
    assert torch.allclose(adv_g, adv_v, atol=1e-5)
    assert torch.allclose(ret_g, vs, atol=1e-5)


def test_vtrace_episode_end_cuts_trace():
    # With a termination at t=1 nothing after it may reach t<=1: change r_2 and compare.
    terminated = col(False, True, False).bool()
    nv = bootstrap_next_values(V_NEXT, torch.zeros(3, 1), terminated, NO)
    lr = torch.zeros(3, 1)
    a1, vs1 = vtrace(R, V, nv, terminated, lr, 0.9, 0.9)
    a2, vs2 = vtrace(R + col(0.0, 0.0, 100.0), V, nv, terminated, lr, 0.9, 0.9)
    assert torch.allclose(a1[:2], a2[:2]) and torch.allclose(vs1[:2], vs2[:2])
    assert not math.isclose(float(a1[2]), float(a2[2]))
