"""Every family's real-size presets by id: ``get_preset("arch:wan2.1-t2v-1.3b")``.

The presets live in each family's package (``families/<family>/presets.py``); the families
come from the one list in ``videogen.video.families``, in its order.
"""

from __future__ import annotations

from typing import Any

from videogen.errors import ModelUnavailableError
from videogen.video.arch.preset import ArchPreset
from videogen.video.families import FAMILY_IDS, family_presets

ARCH_PREFIX = "arch:"


def _index() -> dict[str, ArchPreset]:
    presets: dict[str, ArchPreset] = {}
    for family in FAMILY_IDS:
        for preset in family_presets(family):
            if preset.family != family:
                raise ValueError(
                    f"arch preset {preset.id!r} is listed by family {family!r} but names {preset.family!r}"
                )
            if preset.id != preset.id.lower() or preset.id in presets:
                raise ValueError(f"arch preset id {preset.id!r} must be lowercase and unique")
            presets[preset.id] = preset
    return presets


PRESETS: dict[str, ArchPreset] = _index()


def is_arch_model(value: str | None) -> bool:
    """Whether a ``--model`` value names an arch preset (``arch:<id>``)."""
    return bool(value) and value.strip().lower().startswith(ARCH_PREFIX)


def get_preset(name: str) -> ArchPreset:
    """The preset for ``arch:<id>`` or a bare ``<id>`` (case-insensitive)."""
    key = name.strip().lower()
    if key.startswith(ARCH_PREFIX):
        key = key[len(ARCH_PREFIX) :]
    if key in PRESETS:
        return PRESETS[key]
    allowed = [f"{ARCH_PREFIX}{pid}" for pid in PRESETS]
    raise ModelUnavailableError(
        f"unknown architecture preset {name!r}; known: {', '.join(allowed)}", field="model", allowed=allowed
    )


def presets_for(family: str) -> list[ArchPreset]:
    return [p for p in PRESETS.values() if p.family == family]


def describe_presets(family: str | None = None) -> list[dict[str, Any]]:
    """Presets with per-component and total parameter counts (meta-device builds, cached)."""
    chosen = PRESETS.values() if family is None else presets_for(family)
    return [preset.describe() for preset in chosen]
