"""SANA-Video adapter: SanaVideoPipeline / SanaImageToVideoPipeline."""

from __future__ import annotations

from typing import Any

from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.sana_video.spec import SPEC


class SanaVideoAdapter(VideoPipelineAdapter):
    spec = SPEC

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        # SANA-Video names its frame count ``frames`` (the generic ``num_frames`` is filtered out).
        return {"frames": params["num_frames"]}
