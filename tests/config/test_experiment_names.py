"""Each env preset runs under an experiment name of its own, so ``checkpoint.resume=latest`` of one task never
finds another task's run (issue 17: every preset was ``appo``, so a Go1 run's latest was the last Hopper run)."""

from pathlib import Path

import isaac_hydra_ext
from conftest import compose

PRESETS = sorted(p.stem for p in (Path(isaac_hydra_ext.__file__).parent / "conf" / "env").glob("*.yaml"))


def test_every_training_preset_has_its_own_experiment_name_and_play_variants_share_their_tasks():
    names = {}
    for preset in PRESETS:
        overrides = [f"env={preset}"] + (["env.id=Hopper-v5"] if preset == "gym" else [])
        names[preset] = compose(overrides).experiment.name
    training = {p: n for p, n in names.items() if not p.endswith("_play")}
    assert len(set(training.values())) == len(training), training
    for preset, name in names.items():
        if preset.endswith("_play"):  # play finds the runs of the task it replays
            assert name == names[preset.removesuffix("_play")], names
    assert compose([]).experiment.name == names["mujoco_go1"] == "go1"  # the default run
