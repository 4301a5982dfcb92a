"""docs/configuration.md lists every config key exactly as the schema defines it."""

import dataclasses
from pathlib import Path

from isaac_hydra_ext.config import reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_page_is_generated_from_the_schema():
    assert DOC.read_text() == reference.render(), (
        "docs/configuration.md is stale: run `python -m isaac_hydra_ext.config.reference > docs/configuration.md`"
    )


def test_every_field_has_a_docstring():
    for group, cls in reference.GROUPS:
        docs = reference.field_docs(cls)
        missing = [f.name for f in dataclasses.fields(cls) if not docs.get(f.name)]
        assert not missing, f"{group}: fields without a docstring: {missing}"


def test_the_preset_marked_as_the_default_run_is_the_one_the_default_run_uses():
    from conftest import compose
    from isaac_hydra_ext.config.reference import DEFAULT_PRESET

    assert compose([]) == compose([f"env={DEFAULT_PRESET}"])
