"""Cosmos Predict 2.5 adapter: ``Cosmos2_5_PredictBasePipeline`` for text-, image- and video-to-video.

What is this family's own:

- the guardrail (``guardrail.py``): a model directory loads with NVIDIA's (diffusers builds it) or is refused before
  loading, with what is missing (``model_unavailable_reason``); VideoGen's random-weight models load with
  ``NoGuardrail``;
- image-to-video goes in as a one-frame clip with one conditioning latent frame (``num_latent_conditional_frames=1``):
  the pipeline's own image path converts the image with torchvision, which a torch build may lack, and conditions on
  the same single latent frame (Wan's VAE is causal in time: the first latent frame is the image's alone; the frames
  padded after it, zeros there and the image repeated here, are VAE-encoded but never read, their latents masked);
- video-to-video continues the clip: the clip (at the job's fps and size, at its own length) gives its last 5 frames
  (two latent frames, the pipeline's default) as the video's first, and the video is ``num_frames`` long (without it,
  the model's default). A clip shorter than 5 frames has its last frame repeated, said like every change to a clip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.cosmos import guardrail
from videogen.video.families.cosmos.spec import SPEC
from videogen.video.task_media import SettledMedia

CLIP_LATENT_FRAMES = 2  # the pipeline's default num_latent_conditional_frames: the clip's last 4 * (2 - 1) + 1 frames


class CosmosAdapter(VideoPipelineAdapter):
    spec = SPEC

    def load(self, task: str, model_dir: Path, torch_dtype, **load_kwargs):
        if guardrail.is_random_weights(model_dir):
            load_kwargs["safety_checker"] = guardrail.NoGuardrail()
        return super().load(task, model_dir, torch_dtype, **load_kwargs)

    def model_unavailable_reason(self, task: str, model_dir: Path) -> str | None:
        return guardrail.checkpoint_missing(model_dir)

    def media_kwargs(self, task: str, media: SettledMedia, params: dict[str, Any]) -> dict[str, Any]:
        if media.image is not None:
            image = media.image.resize((params["width"], params["height"]))
            return {"video": [image], "num_latent_conditional_frames": 1}
        if media.video is not None:
            return {"video": media.video, "num_latent_conditional_frames": CLIP_LATENT_FRAMES}
        return {}
