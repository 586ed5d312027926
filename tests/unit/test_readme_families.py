"""README's family table is the specs' task matrix: every (family x task) cell names the pipeline class the family's
spec declares for it, or "—" where the family does not offer the task (footnote marks aside)."""

from __future__ import annotations

import re
from pathlib import Path

from videogen.video.registry import SPECS
from videogen.video.spec import TASKS

README = Path(__file__).resolve().parents[2] / "README.md"
_MARKS = re.compile("[¹²³⁴⁵⁶⁷⁸⁹⁰]+")


def _matrix() -> tuple[list[str], dict[str, list[str]]]:
    lines = README.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| family | frames | size multiple |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [_MARKS.sub("", c).strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells
    return header, rows


def test_the_readme_lists_every_task_of_every_family():
    header, rows = _matrix()
    assert header[3:] == list(TASKS)
    assert set(rows) == set(SPECS)
    for family, cells in rows.items():
        spec = SPECS[family]
        rule = spec.frame_rule
        frames = f"{rule.min_frames}..{rule.max_frames}"
        if rule.multiple > 1:
            frames = f"{rule.multiple}k+{rule.remainder}, {frames}"
        assert cells[1] == frames, family
        assert cells[2] == str(spec.resolution_multiple), family
        for task, cell in zip(TASKS, cells[3:], strict=True):
            assert cell == spec.pipeline_classes.get(task, "—"), (family, task, cell)
