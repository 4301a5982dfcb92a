"""The arithmetic of benchmarks/inprocess_overlap.py: medians of a run's metrics, and GPU concurrency in a trace."""

from __future__ import annotations

import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from inprocess_overlap import kernel_overlap, summarize  # noqa: E402


def kernel(stream: int, ts: float, dur: float, cat: str = "kernel") -> dict:
    return {"ph": "X", "cat": cat, "ts": ts, "dur": dur, "args": {"stream": stream}}


def test_kernel_overlap_counts_time_with_two_streams_busy():
    # stream 7 (the env):     [0, 10] and [20, 30] us; stream 13 (the update): [5, 25] us, a copy on 13 at [40, 42]
    # busy: [0, 30] + [40, 42] = 32 us; two streams at once: [5, 10] + [20, 25] = 10 us
    trace = {
        "traceEvents": [
            kernel(7, 0, 10),
            kernel(7, 20, 10),
            kernel(13, 5, 20),
            kernel(13, 40, 2, "gpu_memcpy"),
            {"ph": "X", "cat": "cpu_op", "ts": 0, "dur": 100, "args": {}},
        ]
    }
    out = kernel_overlap(trace)
    assert out["busy_s"] == pytest.approx(32e-6)
    assert out["concurrent_s"] == pytest.approx(10e-6)
    assert out["concurrent_fraction"] == pytest.approx(10 / 32)
    assert out["streams"] == {
        "13": {"activities": 2, "busy_s": pytest.approx(22e-6)},
        "7": {"activities": 2, "busy_s": pytest.approx(20e-6)},
    }


def test_kernel_overlap_of_one_stream_is_zero_even_when_its_kernels_touch():
    trace = {"traceEvents": [kernel(7, 0, 10), kernel(7, 10, 10), kernel(7, 15, 1)]}
    out = kernel_overlap(trace)
    assert out["busy_s"] == pytest.approx(20e-6) and out["concurrent_s"] == 0.0


def test_summarize_takes_medians_after_the_warmup():
    rows = [
        {
            "env_steps": 100 * i,
            "wall_time_s": t,
            "perf/learner_wait_s": w,
            "perf/learn_s": 0.2,
            "perf/collector_busy_s": 0.3,
            "perf/overlap": 0.5,
            "lag/mean": 1.0,
        }
        for i, (t, w) in enumerate([(0, 9), (5, 9), (6, 0.1), (7, 0.2), (9, 0.3)], start=1)
    ]
    out = summarize(rows, warmup=1)
    # after the first row: iteration times 1, 1, 2 -> median 1 s; 100 steps each
    assert out["iteration_s"] == 1 and out["env_steps_per_s"] == 100
    assert out["learner_wait_s"] == pytest.approx(0.25)  # median of 9, 0.1, 0.2, 0.3
    assert out["overlap"] == 0.5 and out["lag"] == 1.0
    with pytest.raises(ValueError, match="need more than warmup"):
        summarize(rows[:2], warmup=1)
