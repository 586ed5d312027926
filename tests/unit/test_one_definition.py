"""Names with one definition: the placements, the output variants, the step-cache kinds.

A tuple, list or set literal (or a ``Literal[...]``) spelling out a whole family of names is a second
definition waiting to drift; each family is spelled out in its one module and imported elsewhere. (A table
keyed by the names, such as ``speed.STEP_CACHE_MIN_PSNR_DB``, is data about each name, typed by the one
definition, and not counted.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

from videogen.video import outputs
from videogen.video.policy_overrides import GPU_PLACEMENTS, PLACEMENTS, STEP_CACHE_KINDS

REPO = Path(__file__).resolve().parents[2]

# name family -> (its names, the one module allowed to spell them all out)
FAMILIES = {
    "placements": (set(GPU_PLACEMENTS), "videogen/video/policy_overrides.py"),
    "output variants": (set(outputs.VARIANTS), "videogen/video/outputs.py"),
    "step-cache kinds": (set(STEP_CACHE_KINDS) - {"off"}, "videogen/video/policy_overrides.py"),
}


def _literal_sets(tree: ast.AST):
    """(line, constant strings) of every tuple/list/set literal in ``tree`` (``Literal[a, b]``'s is a tuple)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            yield node.lineno, {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}


def spelled_out(names: set[str], root: Path) -> list[str]:
    """``path:line`` of every literal under ``root`` that lists all of ``names``."""
    hits = []
    for path in sorted(root.rglob("*.py")):
        for line, strings in _literal_sets(ast.parse(path.read_text(), str(path))):
            if names <= strings:
                hits.append(f"{path.relative_to(root).as_posix()}:{line}")
    return hits


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_name_family_is_spelled_out_in_one_module(family):
    names, home = FAMILIES[family]
    hits = spelled_out(names, REPO / "videogen")
    assert [h for h in hits if f"videogen/{h.rpartition(':')[0]}" != home] == []


def test_the_scan_finds_a_second_definition(tmp_path):
    (tmp_path / "a.py").write_text('X = ("video", "thumbnail", "spritesheet", "preview")\n')
    (tmp_path / "b.py").write_text(
        'from typing import Literal\nP = Literal["gpu", "model_cpu_offload", "group_offload", "sequential_offload"]\n'
    )
    assert len(spelled_out(set(outputs.VARIANTS), tmp_path)) == 1
    assert len(spelled_out(set(GPU_PLACEMENTS), tmp_path)) == 1


def test_placements_and_rungs_are_one_type():
    from videogen.video import admission, job_plan, loader
    from videogen.video.cost import estimate
    from videogen.video.placement import PLACEMENT_LADDER, Rung

    assert PLACEMENTS == (*GPU_PLACEMENTS, "cpu")
    assert admission.Rung is Rung and job_plan.Rung is Rung and estimate.PLACEMENT_LADDER is PLACEMENT_LADDER
    assert isinstance(loader.LoadedPipeline(pipe=None, provenance={}, meta=None).rung, Rung)
    assert all(isinstance(r, Rung) for r in PLACEMENT_LADDER)
    # The ladder walks the placements in their one order, cheapest first.
    assert list(dict.fromkeys(r.placement for r in PLACEMENT_LADDER)) == list(GPU_PLACEMENTS)
    assert [r.name for r in PLACEMENT_LADDER[:4]] == [
        "gpu",
        "gpu+tiling",
        "gpu+tiling+slicing",
        "model_cpu_offload+tiling+slicing",
    ]


def test_output_variants_come_from_outputs():
    from videogen import cli_client
    from videogen.serve.openai import serving

    assert serving.VARIANTS == cli_client.VARIANTS == tuple(outputs.VARIANTS)


def test_a_family_spec_naming_an_unknown_step_cache_is_refused():
    from videogen.video import speed
    from videogen.video.spec import StepCacheSupport

    with pytest.raises(ValidationError, match="first_blok"):
        StepCacheSupport(works={"first_blok": ("text-to-video",)})
    with pytest.raises(ValidationError):
        StepCacheSupport(why_not={"taylor": "no"})
    StepCacheSupport(works={"first_block": ("text-to-video",)}, why_not={"*": "not declared"})
    assert set(speed.STEP_CACHE_MIN_PSNR_DB) == set(STEP_CACHE_KINDS)
