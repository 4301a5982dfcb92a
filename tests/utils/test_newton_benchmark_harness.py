"""The Isaac Lab Newton APPO-vs-rsl_rl harness on recorded output of both trainers.

``tests/utils/data/newton_*_metrics.jsonl`` are real ``metrics.jsonl`` files, written on the CPU (16 envs) by
``scripts/reinforcement_learning/appo/train.py`` and ``scripts/reinforcement_learning/rsl_rl/train.py`` on the flat
and rough Newton Go1 tasks; ``newton_vs_rsl_rl_cpu.json`` is the result file of that benchmark call
(``benchmarks/isaaclab_newton_vs_rsl_rl.py --device cpu --num-envs 16 --variants rsl_rl,appo ...``). If either
trainer's log format or the harness's reading of it changes, these tests fail here rather than on the GPU machine.
"""

import json
import sys
import textwrap

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import isaaclab_newton_vs_rsl_rl as bench  # noqa: E402
import time_to_result  # noqa: E402

DATA = REPO / "tests" / "utils" / "data"
TRAINERS = ("appo", "rsl_rl")


def recorded(task: str, trainer: str) -> list[dict]:
    return time_to_result.read_metrics(DATA / f"newton_{task}_{trainer}_metrics.jsonl")


@pytest.mark.parametrize("task", ["flat", "rough"])
@pytest.mark.parametrize("trainer", TRAINERS)
def test_recorded_logs_have_the_keys_the_harness_reads(task, trainer):
    lines = recorded(task, trainer)
    assert len(lines) >= 3
    steps = [line["env_steps"] for line in lines]
    assert steps == [384 * (i + 1) for i in range(len(lines))]  # 16 envs x 24 steps per iteration, both trainers
    times = [line["wall_time_s"] for line in lines]
    assert times == sorted(times) and times[0] > 0
    assert all(line["train/episodes"] >= 0 and line["perf/env_steps_per_s"] > 0 for line in lines)
    keys = set().union(*lines)
    assert {"train/mean_episode_length", "train/mean_return", bench.TRACK_KEY} <= keys
    assert (bench.TERRAIN_KEY in keys) == (task == "rough")  # the curriculum exists on the rough task only


@pytest.mark.parametrize("trainer", TRAINERS)
def test_walking_reads_the_isaac_lab_tracking_term_as_a_fraction_of_its_weight(trainer):
    lines = recorded("flat", trainer)
    ok, length, tracking = bench.isaaclab_walking(lines)
    # recomputed by hand: the episode-weighted tracking over the most recent lines that ended >= 100 episodes
    weight = total = 0.0
    for line in reversed(lines):
        if bench.TRACK_KEY in line and line["train/episodes"] > 0:
            total += line[bench.TRACK_KEY] / 1.5 * line["train/episodes"]
            weight += line["train/episodes"]
        if weight >= 100:
            break
    assert ok is False  # a 50-second CPU run does not walk
    assert length == lines[-1]["train/mean_episode_length"]
    assert tracking == pytest.approx(total / weight)
    # an iteration that ended no episode (e.g. the first after a resume) logs no episode statistics: the latest
    # mean length and the earlier episodes' tracking still count
    quiet = {k: v for k, v in lines[-1].items() if not k.startswith(("Episode_", "Metrics/", "train/mean_"))}
    assert bench.isaaclab_walking(lines + [dict(quiet, **{"train/episodes": 0.0})])[1:] == (length, tracking)

    # the same keys, edited so that the robot walks: 950-step episodes, tracking 1.2 and 1.05 of 1.5 over 120
    template = dict(lines[-1], **{"train/episodes": 60.0, "train/mean_episode_length": 950.0})
    walk = [dict(template, **{bench.TRACK_KEY: 1.2}), dict(template, **{bench.TRACK_KEY: 1.05})]
    ok, length, tracking = bench.isaaclab_walking(walk)
    assert ok and length == 950.0 and tracking == pytest.approx(0.75)  # (0.8 + 0.7) / 2, just at the bar
    assert not bench.isaaclab_walking([walk[0], dict(walk[1], **{bench.TRACK_KEY: 1.04})])[0]
    assert not bench.isaaclab_walking([walk[0], dict(walk[1], **{"train/mean_episode_length": 899.0})])[0]
    assert not bench.isaaclab_walking(walk[:1])[0]  # 60 episodes are not yet 100


@pytest.mark.parametrize("trainer", TRAINERS)
def test_flat_summary_of_a_recorded_run(trainer):
    lines = recorded("flat", trainer)
    facts = {"reached": False, "time_to_goal_s": None, "reached_line": None}
    summary = bench.flat_summary(lines, facts, 1.5)
    assert summary["iterations"] == len(lines) and summary["reached"] is False
    assert summary["time_to_walk_s"] is None and summary["steps_to_walk"] is None
    expected = (lines[-1]["env_steps"] - lines[0]["env_steps"]) / (lines[-1]["wall_time_s"] - lines[0]["wall_time_s"])
    assert summary["steady_steps_per_s"] == round(expected)
    assert summary["first_iteration_s"] == lines[0]["wall_time_s"]
    assert summary["final"]["steps"] == lines[-1]["env_steps"]
    assert summary["final"]["length"] == round(lines[-1]["train/mean_episode_length"], 1)


@pytest.mark.parametrize("trainer", TRAINERS)
def test_rough_curve_carries_the_terrain_level_and_scales_the_tracking(trainer):
    lines = recorded("rough", trainer)
    curve = bench.rough_curve(lines, 1.5)
    assert [p["steps"] for p in curve] == [line["env_steps"] for line in lines]
    last_level = None
    for line, point in zip(lines, curve):
        last_level = line.get(bench.TERRAIN_KEY, last_level)  # logged only in iterations in which episodes ended
        assert point["terrain_level"] == last_level
        if point["tracking_reward"] is not None:
            assert point["tracking"] == pytest.approx(point["tracking_reward"] / 1.5)
    assert curve[-1]["terrain_level"] is not None and 0 <= curve[-1]["terrain_level"] <= 10


def test_watch_stops_a_trainer_once_its_recorded_log_walks(tmp_path):
    """A stand-in trainer replays the recorded rsl_rl log, walking from its 5th line; the harness stops it there."""
    lines = recorded("flat", "rsl_rl")
    replay = [dict(line) for line in lines[:4]]
    replay += [
        dict(line, **{"train/episodes": 120.0, "train/mean_episode_length": 960.0, bench.TRACK_KEY: 1.3})
        for line in lines[4:]
    ]
    (tmp_path / "replay.json").write_text(json.dumps(replay))
    trainer = textwrap.dedent("""
        import json, os, signal, sys, time
        signal.signal(signal.SIGINT, lambda *_: sys.exit(0))  # stop like the real trainers: save, exit 0
        run = "logs/rsl_rl/sber_go1_newton_flat/2026-01-01_00-00-00"
        os.makedirs(run)
        with open(os.path.join(run, "metrics.jsonl"), "a") as f:
            for line in json.load(open("replay.json")) + [{"env_steps": 10**9, "wall_time_s": 1e9}] * 100:
                f.write(json.dumps(line) + "\\n")
                f.flush()
                time.sleep(0.3)
    """)
    facts, seen = time_to_result.watch(
        [sys.executable, "-c", trainer],
        bench.metrics_glob(bench.VARIANTS["rsl_rl"]),
        lambda ls: bench.isaaclab_walking(ls)[0],
        60.0,
        tmp_path,
        cwd=tmp_path,
    )
    assert facts["reached"] and facts["returncode"] == 0
    assert facts["reached_line"]["env_steps"] == replay[4]["env_steps"]  # the first walking line
    assert 0 < facts["time_to_goal_s"] < 30
    assert len(seen) < len(replay) + 5  # stopped long before the stand-in's 100 filler lines
    assert (tmp_path / "train.log").exists()


def test_variant_command_lines():
    cmd = bench.command(bench.VARIANTS["appo_w4"], bench.FLAT_TASK, "cuda", 4096, 150.0)
    assert cmd[1].endswith("scripts/reinforcement_learning/appo/train.py")
    assert cmd[2:8] == ["--task", bench.FLAT_TASK, "--device", "cuda", "--num_envs", "4096"]
    assert "agent.max_wall_time_s=150.0" in cmd and cmd[-3:] == ["--num_workers", "4", "agent.envs_per_worker=1024"]
    cmd = bench.command(bench.VARIANTS["appo_sync"], bench.FLAT_TASK, "cuda", 4096, 150.0)
    assert cmd[-4:] == ["--num_workers", "0", "--mode", "sync"]
    cmd = bench.command(bench.VARIANTS["rsl_rl"], bench.ROUGH_TASK, "cuda", 4096, 200.0, checkpoint="/x/m.pt")
    assert cmd[1].endswith("scripts/reinforcement_learning/rsl_rl/train.py")
    assert cmd[-4:] == ["--max_wall_time_s", "200.0", "--checkpoint", "/x/m.pt"]
    assert bench.metrics_glob(bench.VARIANTS["appo_async"]) == "logs/appo/*/*/metrics.jsonl"


def _reached(entry: dict, t: float, steps: int) -> dict:
    return dict(entry, reached=True, time_to_walk_s=t, trainer_time_to_walk_s=t - 20, steps_to_walk=steps)


def test_report_of_recorded_calls_gives_medians_paired_speedups_and_the_joined_rough_curves(tmp_path):
    call = json.loads((DATA / "newton_vs_rsl_rl_cpu.json").read_text())
    assert call["ceiling"]["env_steps_per_s"] > 0 and call["versions"]["rsl-rl-lib"] == "5.5.1"
    assert [r["variant"] for r in call["flat"]] == ["rsl_rl", "appo"]
    assert {r["trainer"] for r in call["rough"]} == {"appo", "rsl_rl"}
    # exit 0, or -2: the harness's SIGINT at the end of the budget reached a process already shutting down
    assert all(r["returncode"] in (0, -2) and r["curve"] and "log_tail" not in r for r in call["flat"] + call["rough"])

    # two more calls: repeats 1 and 2 in which both walked (rsl_rl 120 s / 150 s, APPO 100 s each), and the
    # rough runs resumed (clocks continued by the trainers: times shifted past the first call's)
    later = []
    for repeat, rsl_t in ((1, 120.0), (2, 150.0)):
        rsl, appo = (dict(r, repeat=repeat) for r in call["flat"])
        data = dict(call, flat=[_reached(rsl, rsl_t, 9_000_000), _reached(appo, 100.0, 10_000_000)], ceiling=None)
        horizon = max(p["t"] for r in call["rough"] for p in r["curve"])
        data["rough"] = (
            [dict(r, curve=[dict(p, t=p["t"] + repeat * horizon) for p in r["curve"]]) for r in call["rough"]]
            if repeat == 1
            else []
        )
        later.append(tmp_path / f"call{repeat}.json")
        later[-1].write_text(json.dumps(data))
    merged = bench.merge([DATA / "newton_vs_rsl_rl_cpu.json", *later])
    assert merged["ceiling"] == call["ceiling"]  # the last call that measured one
    assert len(merged["flat"]) == 6 and len(merged["rough"]) == 4

    table = bench.flat_table(merged["flat"], merged["ceiling"])
    rows = {row.split(" | ")[0].strip("| "): row for row in table.splitlines()[2:]}
    # APPO walked in 2 of 3 repeats in 100 s; rsl_rl took 120 and 150 s: speed-ups 1.20 and 1.50, median 1.35
    assert rows["APPO (task default)"].split(" | ")[1:3] == ["2/3", "100.0"]
    assert rows["APPO (task default)"].endswith("| 1.35 (1.20-1.50) |")
    assert rows["rsl_rl OnPolicyRunner"].split(" | ")[1:5] == ["2/3", "135.0", "115.0", "9,000,000"]
    sps = bench._median([r["steady_steps_per_s"] for r in merged["flat"] if r["variant"] == "appo"])
    assert f"| {sps / call['ceiling']['env_steps_per_s']:.2f} |" in rows["APPO (task default)"]

    joined = bench.rough_by_trainer(merged["rough"])
    for trainer in TRAINERS:
        times = [p["t"] for p in joined[trainer]["curve"]]
        assert times == sorted(times) and len(times) == len(set(times)) and joined[trainer]["calls"] == 2
    plot = tmp_path / "rough.png"
    text = bench.report(merged, doc=False, plot_path=plot)
    assert "Random-action ceiling (16 envs): **130** env steps/s" in text
    assert "3 paired repeat(s)" in text and "Rough, same training wall time (2 call(s)" in text
    assert "| terrain level |" in text and f"]({bench.DOC_PLOT})" in text
    pytest.importorskip("matplotlib")
    assert plot.stat().st_size > 10_000
