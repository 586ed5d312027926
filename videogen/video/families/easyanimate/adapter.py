"""EasyAnimate adapter: EasyAnimatePipeline (text-to-video) / EasyAnimateInpaintPipeline (image-to-video,
first-last-frame, and text-to-video on an InP checkpoint).

What is this family's own:

- the InP pipeline takes no image: it takes a clip and its mask (``video``, ``mask_video``), which diffusers' own
  ``get_image_to_video_latent`` builds from the first frame and, for first-last-frame, the last one (the docs' and
  EasyAnimate's ``predict_i2v.py`` way): every frame the first image, the last replaced by the last image, the mask 0
  on the kept frames and 255 on the ones to generate (``inpaint_inputs``). The pipeline resizes that mask to the
  latents trilinearly (frame 0 alone, then frames 1..F-1), which marks the first latent frame only: the last image
  reaches the DiT as the masked clip's last latent frame, as in EasyAnimate's own code. Text-to-video on an InP
  checkpoint passes neither (the pipeline conditions on zeros, as EasyAnimate's ``predict_t2v.py`` runs its InP
  weights);
- a text-to-video checkpoint (its DiT takes the noise alone) cannot run image-to-video: diffusers 0.42's InP pipeline
  blends the image back into the latents there and fails (diffusers#12646), so it is refused before loading, naming a
  checkpoint that can (``model_unavailable_reason``);
- guidance: the pipelines iterate the negative prompt when guidance is on, so a request without one runs against the
  empty prompt (None would be a TypeError inside the call).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.easyanimate.spec import SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO
from videogen.video.task_media import SettledMedia


def inpaint_inputs(first, last, num_frames: int, height: int, width: int):
    """``(video, mask_video)`` for the InP pipeline: diffusers' ``get_image_to_video_latent`` at the job's size
    (``video`` in 0..1, ``[1, 3, F, H, W]``; ``mask_video`` 0 where a frame is kept, 255 where it is generated)."""
    from diffusers.pipelines.easyanimate.pipeline_easyanimate_inpaint import get_image_to_video_latent

    return get_image_to_video_latent([first], last, num_frames, (height, width))


class EasyAnimateAdapter(VideoPipelineAdapter):
    spec = SPEC

    def model_unavailable_reason(self, task: str, model_dir: Path) -> str | None:
        if task not in (IMAGE_TO_VIDEO, FIRST_LAST_FRAME):
            return None
        config_file = Path(model_dir) / "transformer" / "config.json"
        if not config_file.is_file():
            return None
        config = json.loads(config_file.read_text())
        if config.get("in_channels") != config.get("out_channels"):
            return None
        return (
            f"{model_dir} is a text-to-video EasyAnimate checkpoint (its transformer takes the noise alone, "
            f"in_channels {config.get('in_channels')}); {task} needs an InP checkpoint (noise, mask and the kept "
            f"frames' latents), e.g. {SPEC.default_model_ids[task]}"
        )

    def prepare_inputs(
        self, request: VideoRequest, pipe, meta: ModelMeta | None = None, settled: PreparedInputs | None = None
    ) -> PreparedInputs:
        prepared = super().prepare_inputs(request, pipe, meta, settled)
        prepared.kwargs.setdefault("negative_prompt", "")
        return prepared

    def media_kwargs(self, task: str, media: SettledMedia, params: dict[str, Any]) -> dict[str, Any]:
        if media.image is None:  # text-to-video, on either pipeline: nothing kept
            return {}
        video, mask = inpaint_inputs(
            media.image, media.last_image, params["num_frames"], params["height"], params["width"]
        )
        return {"video": video, "mask_video": mask}
