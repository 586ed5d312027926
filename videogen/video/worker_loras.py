"""A worker's LoRA adapters: the ones declared per family, and those resident in each loaded pipeline.

A pipeline gets its resident set when it loads (``prepare``): adapters loaded and switched with
``set_adapters`` (``videogen.video.loras``), or, with regional compile on, hot-swapped into slots so the
compiled graphs never change (``videogen.video.lora_hotswap``). Each job then makes exactly its adapters
active (``apply``); the base model is never reloaded for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from videogen.errors import InvalidRequestError
from videogen.video.lora_config import DEFAULT_MAX_LORAS_PER_REPLICA, LoraAdapter, parse_loras
from videogen.video.lora_hotswap import HotswapSlots
from videogen.video.loras import ResidentLoras


class WorkerLoras:
    """A worker's declared adapters (per family) and the adapters resident in each of its pipelines."""

    def __init__(
        self,
        declared: Mapping[str, Mapping[str, Any]] | None = None,
        capacity: int = DEFAULT_MAX_LORAS_PER_REPLICA,
    ):
        self.declared = {family: parse_loras(adapters) for family, adapters in (declared or {}).items()}
        self.capacity = capacity
        self.resident: dict[tuple[str, str], Any] = {}

    def adapters(self, family: str) -> dict[str, LoraAdapter]:
        return self.declared.get(family, {})

    def prepare(self, key: tuple[str, str], loaded: Any) -> None:
        """Set up the adapters of a freshly loaded pipeline, before a compiled warm-up builds its graphs: with
        regional compile on and adapters declared, hot-swap slots (switching never recompiles)."""
        declared = self.adapters(key[0])
        compiled = loaded.provenance.get("levers", {}).get("compile", {}).get("applied") == "regional"
        if compiled and declared:
            slots = HotswapSlots(loaded.pipe, declared, self.capacity)
            loaded.provenance.setdefault("levers", {})["lora_hotswap"] = slots.prepare()
            self.resident[key] = slots
        else:
            self.resident[key] = ResidentLoras(loaded.pipe, declared, self.capacity)

    def apply(self, key: tuple[str, str], wanted: Sequence[Mapping[str, Any]] | None) -> dict[str, Any] | None:
        """Run the pipeline of ``key`` with exactly ``wanted``; None when this family declares no adapters."""
        resident = self.resident.get(key)
        if resident is None and wanted:  # (a pipeline is prepared when it loads: a caller skipped ``warm``)
            raise InvalidRequestError("loras", f"no adapters are set up for {key[0]}/{key[1]}")
        if resident is None or not (wanted or resident.loaded):
            return None  # nothing declared, or nothing loaded and nothing wanted: the base model as it is
        return resident.apply(list(wanted or ()))
