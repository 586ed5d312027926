"""pyproject's minimum versions cover the library features the code uses."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# A pydantic feature the code uses -> the first pydantic release that has it (older ones ignore or refuse it).
PYDANTIC_FEATURES = {"exclude_if=": (2, 12), "WithJsonSchema": (2, 0), "PlainValidator": (2, 0)}


def minimum(requirement: str, text: str) -> tuple[int, ...]:
    """The ``>=`` bound of ``requirement`` in pyproject's ``text``."""
    found = re.search(rf'"{re.escape(requirement)}(\[[^\]]*\])?>=([0-9.]+)', text)
    assert found, f"{requirement} has no >= bound in pyproject.toml"
    return tuple(int(part) for part in found.group(2).split("."))


def features_used(features: dict[str, tuple[int, int]], root: Path) -> dict[str, tuple[int, int]]:
    source = "\n".join(p.read_text() for p in root.rglob("*.py"))
    return {name: version for name, version in features.items() if name in source}


def test_the_pydantic_minimum_has_every_feature_the_code_uses():
    used = features_used(PYDANTIC_FEATURES, REPO / "videogen")
    assert "exclude_if=" in used  # what the scan is for: the serialised shapes leave unset fields out with it
    floor = minimum("pydantic", (REPO / "pyproject.toml").read_text())
    assert all(floor >= version for version in used.values()), (floor, used)


def test_the_bound_is_read_as_written():
    assert minimum("pydantic", '"pydantic>=2.6",') == (2, 6)
    assert minimum("ray", '"ray[serve]>=2.40",') == (2, 40)
    assert minimum("pydantic", '"pydantic>=2.6",') < (2, 12)  # compared as numbers: as text "2.6" > "2.12"
