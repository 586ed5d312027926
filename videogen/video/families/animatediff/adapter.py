"""AnimateDiff: an SD 1.5 pipeline plus a motion adapter.

A full pipeline directory (``model_index.json``, e.g. the tiny model or a saved
``AnimateDiffPipeline``) loads as usual. The family's default model is a
motion adapter alone (``guoyww/animatediff-motion-adapter-v1-5-2``: only
``config.json`` + weights); it is combined with an SD 1.5 base pipeline read
from the local directory in the environment variable ``VIDEOGEN_ANIMATEDIFF_BASE``
(e.g. a downloaded ``stable-diffusion-v1-5`` snapshot). Nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

from videogen.errors import ModelUnavailableError
from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.animatediff.spec import SPEC

BASE_ENV = "VIDEOGEN_ANIMATEDIFF_BASE"


class AnimateDiffAdapter(VideoPipelineAdapter):
    spec = SPEC

    def load(self, task: str, model_dir: Path, torch_dtype):
        model_dir = Path(model_dir)
        if (model_dir / "model_index.json").is_file() or not (model_dir / "config.json").is_file():
            return super().load(task, model_dir, torch_dtype)
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
