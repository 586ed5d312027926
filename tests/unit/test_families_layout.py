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
