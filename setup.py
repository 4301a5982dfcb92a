"""Build script: the version comes from the extension manifest, the one source of truth."""

import os

from setuptools import setup

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = os.path.dirname(os.path.realpath(__file__))
with open(os.path.join(ROOT, "source", "isaac_hydra_ext", "config", "extension.toml"), "rb") as f:
    EXTENSION_TOML = tomllib.load(f)

setup(version=EXTENSION_TOML["package"]["version"])
