"""Bad configuration, wrong types: every key of every group fed values of the wrong type through real Hydra
composition gives one readable error naming the key and the value, before anything starts. (Out-of-range values
of every key: tests/config/test_validation.py.)"""

import dataclasses

import pytest
from conftest import FULL
from fault_cli import pids_in, run
from hydra.errors import ConfigCompositionException
from isaac_hydra_ext.config.schema import CheckpointConfig, EnvConfig, ExperimentConfig, LoggingConfig, PPOConfig

GROUPS = {
    "ppo": PPOConfig,
    "env": EnvConfig,
    "logging": LoggingConfig,
    "checkpoint": CheckpointConfig,
    "experiment": ExperimentConfig,
}

# Wrong-type values per declared type, as a user would type them on the command line, with the part of the
# message that must name the value.
WRONG = {
    "int": [
        ("abc", "Value 'abc' of type 'str' could not be converted to Integer"),
        ("1.5", "Value '1.5' of type 'float' could not be converted to Integer"),
        ("[1]", "Value '[1]' of type 'list' could not be converted to Integer"),
    ],
    "float": [
        ("fast", "Value 'fast' of type 'str' could not be converted to Float"),
        ("[1]", "Value '[1]' of type 'list' could not be converted to Float"),
    ],
    "bool": [
        ("maybe", "Value 'maybe' is not a valid bool (type str)"),
        ("[1]", "Value '[1]' is not a valid bool (type list)"),
    ],
    "str": [
        ("[1,2]", "Cannot convert 'list' to string: '[1, 2]'"),
        ("{a:1}", "Cannot convert 'dict' to string: '{'a': 1}'"),
    ],
    "list[int]": [
        ("abc", "Invalid value assigned: str is not a ListConfig, list or tuple."),
        ("[64,x]", "Value 'x' of type 'str' could not be converted to Integer"),
        ("[64,1.5]", "Value '1.5' of type 'float' could not be converted to Integer"),
    ],
    "list[str]": [
        ("abc", "Invalid value assigned: str is not a ListConfig, list or tuple."),
    ],
    "dict[str, Any]": [
        ("3", "Cannot assign int to Dict[str, Any]"),
        ("[1]", "Cannot merge DictConfig with ListConfig"),
    ],
}


def _leaves(prefix, schema):
    """(dotted key, declared type) of every leaf field, descending into nested dataclass sections (``env.launch``)."""
    for f in dataclasses.fields(schema):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            yield from _leaves(f"{prefix}.{f.name}", type(default))
        else:
            yield f"{prefix}.{f.name}", f.type


LEAVES = [leaf for group, schema in GROUPS.items() for leaf in _leaves(group, schema)]


def _cases():
    for key, kind in LEAVES:
        for value, message in WRONG.get(kind, [])[: None if FULL else 1]:  # CI: one wrong type per key
            yield key, value, message


CASES = list(_cases())


def test_the_table_covers_every_key_of_every_group():
    keys = {k for k, _, _ in CASES}
    assert keys == {k for k, _ in LEAVES} and len(keys) >= 60
    assert "env.launch.overrides" in keys  # nested sections are covered too
    assert {kind for _, kind in LEAVES} <= set(WRONG)  # no type left out


@pytest.fixture(scope="module")
def hydra_compose():
    """Real Hydra composition of ``train_appo`` (initialized once for the table: it is the slow part)."""
    from hydra import compose, initialize_config_module
    from isaac_hydra_ext.config.store import register_configs

    register_configs()
    with initialize_config_module("isaac_hydra_ext.conf", version_base="1.3"):
        yield lambda overrides: compose("train_appo", overrides=overrides)


def test_the_fixture_composes_a_valid_config(hydra_compose):
    assert hydra_compose(["env=gym_pendulum", "ppo.num_workers=3"]).ppo.num_workers == 3


@pytest.mark.parametrize("key,value,message", CASES, ids=[f"{k}={v}" for k, v, _ in CASES])
def test_wrong_type_gives_one_message_naming_key_and_value(hydra_compose, key, value, message):
    with pytest.raises(ConfigCompositionException) as err:
        hydra_compose(["env=gym_pendulum", f"{key}={value}"])
    text = f"{err.value}\n{err.value.__cause__}"
    assert str(err.value) == f"Error merging override {key}={value}"  # one line: which override
    assert message in text, text  # what is wrong with the value
    assert f"full_key: {key}" in text, text  # and the key, again, in the cause


CLI_CASES = [
    ("ppo.learning_rate=fast", "Value 'fast' of type 'str' could not be converted to Float"),
    ("ppo.normalize_advantage=maybe", "Value 'maybe' is not a valid bool (type str)"),
    ("ppo.actor_hidden_dims=[64,x]", "Value 'x' of type 'str' could not be converted to Integer"),
    ("experiment.device=[1,2]", "Cannot convert 'list' to string: '[1, 2]'"),
    ("env.kwargs=3", "Cannot assign int to Dict[str, Any]"),
    ("checkpoint.every_iterations=often", "Value 'often' of type 'str' could not be converted to Integer"),
]


@pytest.mark.parametrize("override,message", CLI_CASES)
def test_cli_wrong_type_exits_2_with_one_message_and_starts_nothing(tmp_path, override, message):
    # A wrong type is a configuration error like an out-of-range value: exit 2 and one line (issue 17: Hydra alone
    # exits 1 with a multi-line message and a hint to set HYDRA_FULL_ERROR for the traceback).
    pid_log = tmp_path / "env_pids"
    code, out, err = run(
        tmp_path,
        ["env=gym", "env.id=fault_envs:SlowPendulum-v0", f"+env.kwargs.pid_log={pid_log}", override],
        timeout=120,
    )
    assert code == 2, err
    assert err.count("Error merging override") == 1 and f"  - Error merging override {override}: {message}" in err
    assert len([ln for ln in err.splitlines() if ln.startswith("Error")]) == 1 and "HYDRA_FULL_ERROR" not in err
    assert "Traceback" not in out + err
    assert not pid_log.exists() and not pids_in(pid_log)  # not even the learner built an env
    assert not (tmp_path / "runs").exists()  # no run directory, no process
