"""CogVideoX: the prompt is padded to the transformer's text length; control-to-video hands the control clip to
``CogVideoXFunControlPipeline`` as ``control_video`` on a CogVideoX-Fun control checkpoint (``fun_control``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.cogvideox.fun_control import check_control, directory_unavailable_reason
from videogen.video.families.cogvideox.spec import SPEC
from videogen.video.spec import CONTROL_TO_VIDEO
from videogen.video.task_media import SettledMedia


class CogVideoXAdapter(VideoPipelineAdapter):
    spec = SPEC

    def model_unavailable_reason(self, task: str, model_dir: Path) -> str | None:
        return directory_unavailable_reason(model_dir) if task == CONTROL_TO_VIDEO else None

    def media_kwargs(self, task: str, media: SettledMedia, params: dict[str, Any]) -> dict[str, Any]:
        kwargs = super().media_kwargs(task, media, params)
        if task == CONTROL_TO_VIDEO:  # the pipeline takes its frame count from the clip (one per output frame)
            kwargs["control_video"] = kwargs.pop("video")
        return kwargs

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        if task == CONTROL_TO_VIDEO:
            check_control(pipe)
        # With sin-cos positional embeddings (CogVideoX-2b) any other length breaks the
        # transformer; the pipeline's default 226 only matches the real checkpoints.
        return {"max_sequence_length": int(pipe.transformer.config.max_text_seq_length)}
