"""AnimateDiff: an SD 1.5 pipeline plus a motion adapter.

A full pipeline directory (``model_index.json``, e.g. the tiny model or a saved
``AnimateDiffPipeline``) loads as usual. The family's default model is a
motion adapter alone (``guoyww/animatediff-motion-adapter-v1-5-2``: only
``config.json`` + weights); it is combined with an SD 1.5 base pipeline read
from the local directory in the environment variable ``VIDEOGEN_ANIMATEDIFF_BASE``
(e.g. a downloaded ``stable-diffusion-v1-5`` snapshot). Nothing is downloaded.
Control-to-video adds an SD 1.5 ControlNet to either (``controlnet.py``: where it comes from) and hands the control
clip to ``AnimateDiffControlNetPipeline`` as ``conditioning_frames``, ``conditioning_scale`` as
``controlnet_conditioning_scale``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from videogen.errors import ModelUnavailableError, UnsupportedTaskError
from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.animatediff.controlnet import load_controlnet, missing_controlnet_reason
from videogen.video.families.animatediff.spec import SPEC
from videogen.video.spec import CONTROL_TO_VIDEO
from videogen.video.task_media import SettledMedia

BASE_ENV = "VIDEOGEN_ANIMATEDIFF_BASE"


class AnimateDiffAdapter(VideoPipelineAdapter):
    spec = SPEC

    def model_unavailable_reason(self, task: str, model_dir: Path) -> str | None:
        return missing_controlnet_reason(model_dir) if task == CONTROL_TO_VIDEO else None

    def load(self, task: str, model_dir: Path, torch_dtype, **load_kwargs):
        model_dir = Path(model_dir)
        if task == CONTROL_TO_VIDEO:  # the ControlNet joins whichever way the rest loads
            missing = missing_controlnet_reason(model_dir)
            if missing is not None:
                raise UnsupportedTaskError(missing, field="model", family=SPEC.id, task=task)
            load_kwargs = {**load_kwargs, "controlnet": load_controlnet(model_dir, torch_dtype)}
        if (model_dir / "model_index.json").is_file() or not (model_dir / "config.json").is_file():
            return super().load(task, model_dir, torch_dtype, **load_kwargs)
        # A motion adapter alone has no model index, so quantize.load_kwargs gave nothing: its UNet is quantized
        # after loading (quantize.apply_weights), once the pipeline has joined it with the adapter.
        from diffusers import DDIMScheduler, MotionAdapter

        base = os.environ.get(BASE_ENV)
        if not base or not (Path(base).expanduser() / "model_index.json").is_file():
            raise ModelUnavailableError(
                f"{model_dir} holds a motion adapter only; set {BASE_ENV} to a local Stable Diffusion 1.5 "
                f"pipeline directory (now {base!r})",
                model=str(model_dir),
            )
        adapter = MotionAdapter.from_pretrained(
            str(model_dir), dtype=torch_dtype, use_safetensors=True, local_files_only=True
        )
        pipe = self.pipeline_class(task).from_pretrained(
            str(Path(base).expanduser()),
            motion_adapter=adapter,
            dtype=torch_dtype,
            use_safetensors=True,
            local_files_only=True,
            **{k: v for k, v in load_kwargs.items() if k == "controlnet"},
        )
        # AnimateDiff's recommended sampler (the SD base usually ships PNDM).
        pipe.scheduler = DDIMScheduler.from_config(
            pipe.scheduler.config,
            beta_schedule="linear",
            clip_sample=False,
            timestep_spacing="linspace",
            steps_offset=1,
        )
        return pipe

    def media_kwargs(self, task: str, media: SettledMedia, params: dict[str, Any]) -> dict[str, Any]:
        kwargs = super().media_kwargs(task, media, params)
        if task == CONTROL_TO_VIDEO:  # AnimateDiffControlNetPipeline's names for the clip and its scale
            kwargs["conditioning_frames"] = kwargs.pop("video")
            kwargs["controlnet_conditioning_scale"] = kwargs.pop("conditioning_scale")
        return kwargs
