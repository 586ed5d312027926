"""``videogen.json``: what a model directory says about itself beyond diffusers' files.

Tiny models always carry one; a real model directory may (extra pipeline kwargs,
its own request defaults or limits). Read by the worker, reported by replicas,
used by the ingress to validate a request against the model actually served.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MODEL_META_FILE = "videogen.json"

# What a tiny model generates by default: small enough for well under a second on a CPU.
TINY_REQUEST_DEFAULTS: dict[str, Any] = {"num_frames": 9, "height": 32, "width": 32, "num_inference_steps": 2}


class ModelMeta(BaseModel):
    model_config = ConfigDict(extra="allow")

    family: str | None = None
    task: str | None = None
    tiny: bool = False
    tiny_version: str | None = None
    call_kwargs: dict[str, Any] = Field(default_factory=dict, description="extra kwargs for the pipeline call")
    request_defaults: dict[str, Any] = Field(default_factory=dict, description="defaults that beat the family's")
    # Denoiser experts the pipeline switches between by timestep (Wan 2.2 A14B: 2, ``transformer_2`` for the
    # low-noise steps); None when not known before loading. A request's ``guidance_scale_2`` needs 2.
    experts: int | None = Field(default=None, ge=1, description="denoiser experts (None: not known before loading)")

    @classmethod
    def for_tiny(cls, family: str | None = None, task: str | None = None, **kw: Any) -> ModelMeta:
        kw.setdefault("experts", 1)  # the plain tiny models have one denoiser; a variant says otherwise
        return cls(family=family, task=task, tiny=True, request_defaults=dict(TINY_REQUEST_DEFAULTS), **kw)

    @classmethod
    def read(cls, model_dir: Path) -> ModelMeta:
        """The directory's ``videogen.json``; an empty meta when it has none."""
        path = Path(model_dir) / MODEL_META_FILE
        return cls.model_validate(json.loads(path.read_text())) if path.is_file() else cls()

    def write(self, model_dir: Path) -> None:
        (Path(model_dir) / MODEL_META_FILE).write_text(self.model_dump_json(indent=2, exclude_none=True))
