"""The package's configs reach a user's own Hydra app through Hydra's real plugin discovery."""

import subprocess
import sys
import textwrap

from isaac_hydra_ext.config.schema import SamplerConfig

APP = textwrap.dedent(
    """
    import hydra
    from omegaconf import DictConfig

    @hydra.main(version_base="1.3", config_path="conf", config_name="config")
    def main(cfg: DictConfig) -> None:
        print("steps_per_env", cfg.ppo.steps_per_env, "workers", cfg.ppo.num_workers, "mine", cfg.mine)

    if __name__ == "__main__":
        main()
    """
)


def _app(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("defaults:\n  - ppo: default\n  - _self_\nmine: 7\n")
    (tmp_path / "app.py").write_text(APP)


def test_user_app_uses_package_ppo_group(tmp_path):
    _app(tmp_path)
    res = subprocess.run(
        [sys.executable, "app.py", "ppo.num_workers=5", "hydra.run.dir=out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    default_t = SamplerConfig().steps_per_env  # the schema's default reaches the user's app through the plugin
    assert f"steps_per_env {default_t} workers 5 mine 7" in res.stdout


def test_search_path_lists_the_plugin(tmp_path):
    _app(tmp_path)
    res = subprocess.run(
        [sys.executable, "app.py", "--info", "searchpath"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert "isaac_hydra_ext" in res.stdout and "pkg://isaac_hydra_ext.conf" in res.stdout
