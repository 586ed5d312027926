"""CogVideoX: the prompt is padded to the transformer's text length."""

from __future__ import annotations

from typing import Any

from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.cogvideox.spec import SPEC


class CogVideoXAdapter(VideoPipelineAdapter):
    spec = SPEC

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        # With sin-cos positional embeddings (CogVideoX-2b) any other length breaks the
        # transformer; the pipeline's default 226 only matches the real checkpoints.
        return {"max_sequence_length": int(pipe.transformer.config.max_text_seq_length)}
