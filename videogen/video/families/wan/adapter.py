"""Wan 2.1 / 2.2: the generic adapter covers everything (frames 4k+1, sizes multiple of 16); first-last-frame
checks that the loaded checkpoint can take two frames."""

from __future__ import annotations

from typing import Any

from videogen.errors import UnsupportedTaskError
from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.wan.spec import SPEC
from videogen.video.spec import FIRST_LAST_FRAME


class WanAdapter(VideoPipelineAdapter):
    spec = SPEC

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        if task == FIRST_LAST_FRAME:
            check_first_last_frame(pipe)
        return {}


def check_first_last_frame(pipe) -> None:
    """Refuse a Wan 2.1 image-to-video checkpoint for first-last-frame before it runs.

    ``WanImageToVideoPipeline`` CLIP-embeds ``[image, last_image]`` as a batch of two; only a transformer with
    ``pos_embed_seq_len`` (Wan 2.1 FLF2V) folds them into one sequence. An i2v transformer (``image_dim`` set, no
    ``pos_embed_seq_len``) would fail inside the call on a tensor-size mismatch. A transformer without image
    embeddings (Wan 2.2) takes the last frame in its conditioning latents only.
    """
    transformer = getattr(pipe, "transformer", None)
    config = getattr(transformer, "config", None)
    if config is not None and config.get("image_dim") is not None and config.get("pos_embed_seq_len") is None:
        raise UnsupportedTaskError(
            f"this Wan checkpoint is an image-to-video model: its transformer has no pos_embed_seq_len for two "
            f"frames' image embeddings; use a first-last-frame checkpoint such as "
            f"{SPEC.default_model_ids[FIRST_LAST_FRAME]}",
            family=SPEC.id,
            task=FIRST_LAST_FRAME,
        )
