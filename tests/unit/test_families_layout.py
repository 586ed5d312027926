"""Every family is one package that agrees with itself: its SPEC, its adapter and its tiny builder."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import videogen.video.families as families
from videogen.errors import UnknownFamilyError
from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.registry import FAMILY_IDS, SPECS
from videogen.video.spec import VideoModelSpec
from videogen.video.tiny.cache import build_tiny_pipeline

FAMILIES_DIR = Path(families.__file__).parent
CASES = [(family, task) for family in FAMILY_IDS for task in SPECS[family].tasks]


def test_one_package_per_family_and_nothing_else():
    packages = sorted(p.name for p in FAMILIES_DIR.iterdir() if (p / "__init__.py").is_file())
    assert packages == sorted(family.replace("-", "_") for family in FAMILY_IDS)
    assert list(families.FAMILIES) == list(FAMILY_IDS) == list(families.SPECS)


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_spec_adapter_and_tiny_builder_agree(family):
    package = families.FAMILIES[family]
    assert package.__name__ == f"videogen.video.families.{family.replace('-', '_')}"
    spec_module = importlib.import_module(f"{package.__name__}.spec")
    tiny_module = importlib.import_module(f"{package.__name__}.tiny")
    assert isinstance(package.SPEC, VideoModelSpec) and package.SPEC is spec_module.SPEC
    assert package.SPEC.id == family and families.get_spec(family) is package.SPEC is SPECS[family]

    adapter_class = families.adapter_class(family)
    assert issubclass(adapter_class, VideoPipelineAdapter) and adapter_class.__name__.endswith("Adapter")
    assert adapter_class.__module__ == f"{package.__name__}.adapter"
    adapter = families.get_adapter(family)
    assert type(adapter) is adapter_class and adapter.spec is package.SPEC and adapter.family == family

    assert families.tiny_builder(family) is tiny_module.build_pipeline
    assert set(package.TINY_CALL_KWARGS) <= set(package.SPEC.tasks)


@pytest.mark.parametrize(("family", "task"), CASES, ids=[f"{f}-{t}" for f, t in CASES])
def test_tiny_builder_builds_the_pipeline_class_the_spec_names(family, task):
    pipe = build_tiny_pipeline(family, task)
    assert type(pipe).__name__ == SPECS[family].pipeline_classes[task]


def test_family_packages_do_not_import_presets():
    """Real-size presets are imported where they are used, never by loading a family."""
    for family in FAMILY_IDS:
        source = (FAMILIES_DIR / family.replace("-", "_") / "__init__.py").read_text()
        assert "presets" not in source


def test_unknown_family_everywhere_is_the_same_error():
    for lookup in (families.get_spec, families.get_adapter, families.adapter_class, families.tiny_builder):
        with pytest.raises(UnknownFamilyError) as info:
            lookup("sora")
        assert info.value.field == "family" and info.value.allowed == list(FAMILY_IDS)


# -- cost facts: in the family's folder, and nowhere else --------------------------------------------

COST_MODEL_DIRS = ("videogen/video/cost", "videogen/video/arch")


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_every_family_states_its_cost_facts_in_its_folder(family):
    from videogen.video.arch.catalog import presets_for
    from videogen.video.cost.facts import CostFacts

    package = families.FAMILIES[family]
    assert (FAMILIES_DIR / family.replace("-", "_") / "cost.py").is_file()
    cost_module = importlib.import_module(f"{package.__name__}.cost")
    assert isinstance(cost_module.COST, CostFacts)
    assert families.get_cost_facts(family) is package.COST is cost_module.COST
    facts = package.COST
    tasks = set(package.SPEC.tasks)
    assert set(facts.text_by_task) <= tasks and facts.per_token_timestep_tasks <= tasks
    # Every text encoder the facts run is a component of each of the family's presets.
    presets = presets_for(family)
    assert presets and families.family_presets(family) == tuple(presets)
    for preset in presets:
        names = {c.name for c in preset.components}
        for task in preset.tasks:
            assert set(facts.text_for(task).encoder_tokens) <= names, (preset.id, task)


def test_unknown_family_has_no_cost_facts_or_presets():
    for lookup in (families.get_cost_facts, families.family_presets):
        with pytest.raises(UnknownFamilyError) as info:
            lookup("sora")
        assert "sora" in str(info.value) and info.value.allowed == list(FAMILY_IDS)


def family_literals(source: str, family_ids=FAMILY_IDS) -> list[tuple[int, str]]:
    """(line, value) of every string literal in ``source`` that is a family id or package name."""
    import ast

    names = set(family_ids) | {f.replace("-", "_") for f in family_ids}
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
    )


def test_the_cost_model_and_the_arch_catalog_name_no_family():
    """Family facts live in the family's folder: the cost model and the presets' catalog read them
    through ``videogen.video.families``, never by comparing a family's name."""
    root = FAMILIES_DIR.parents[2]
    files = [p for d in COST_MODEL_DIRS for p in sorted((root / d).rglob("*.py"))]
    assert {p.name for p in files} >= {"shapes.py", "calibrate.py", "vae_tiles.py", "catalog.py"}
    found = {str(p.relative_to(root)): hits for p in files if (hits := family_literals(p.read_text()))}
    assert found == {}


def test_the_family_literal_scan_sees_comparisons_tables_and_package_names():
    source = (
        'if preset.family == "ltx-video":\n    x = {"animatediff": 16}\ny = f"{a}" + "hunyuan_video"\nz = "wan2.1"\n'
    )
    assert family_literals(source) == [(1, "ltx-video"), (2, "animatediff"), (3, "hunyuan_video")]
