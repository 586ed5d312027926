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

from videogen.video.lora_config import LoraOffer, offers
from videogen.video.recipes import SamplingRecipe

MODEL_META_FILE = "videogen.json"
# The model directory's folder for a latent upsampler (diffusers' ``LTXLatentUpsamplerModel``, safetensors).
LATENT_UPSAMPLER_DIR = "latent_upsampler"

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
    # Named sampling recipes (``videogen.recipes``): the directory's own, with the operator's over them by name.
    recipes: dict[str, SamplingRecipe] = Field(default_factory=dict, description="sampling recipes by name")
    # LoRA adapters the operator declares for this model (``videogen.lora_config``): what requests may name and
    # at which scales; their paths stay with the worker. Set by the server, never read from a directory.
    loras: dict[str, LoraOffer] = Field(default_factory=dict, description="LoRA adapters a request may name")
    # Denoiser experts the pipeline switches between by timestep (Wan 2.2 A14B: 2, ``transformer_2`` for the
    # low-noise steps); None when not known before loading. A request's ``guidance_scale_2`` needs 2.
    experts: int | None = Field(default=None, ge=1, description="denoiser experts (None: not known before loading)")
    # A 2x spatial latent upsampler in ``LATENT_UPSAMPLER_DIR`` of the model directory (LTX-Video's, what a request's
    # ``latent_upscale`` needs); None when not known before loading.
    latent_upsampler: bool | None = Field(default=None, description="has a latent upsampler (None: not known yet)")
    # The pipeline class that runs this task on this model where it is not the family's for the task: the checkpoint's
    # own (``VideoModelSpec.checkpoint_tasks``; a FramePack checkpoint's image-to-video). None: the family's.
    pipeline_class: str | None = Field(default=None, description="the pipeline running the task, if not the family's")
    # Pixel sides must be multiples of this where the checkpoint needs a coarser grid than the family's: its VAE's
    # spatial compression x its transformer's patch (Wan 2.2 TI2V-5B: 16 x 2 = 32). None: the family's.
    resolution_multiple: int | None = Field(default=None, ge=1, description="size multiple, if not the family's")
    # What the checkpoint says that only its family's adapter reads (``checkpoint_facts`` in the family's package:
    # HunyuanVideo 1.5's target_size, the resolution its image-to-video generates at). None: not known.
    family_facts: dict[str, Any] | None = Field(default=None, description="the checkpoint's facts for its family")

    @classmethod
    def for_tiny(cls, family: str | None = None, task: str | None = None, **kw: Any) -> ModelMeta:
        kw.setdefault("experts", 1)  # the plain tiny models have one denoiser; a variant says otherwise
        return cls(family=family, task=task, tiny=True, request_defaults=dict(TINY_REQUEST_DEFAULTS), **kw)

    @classmethod
    def read(cls, model_dir: Path) -> ModelMeta:
        """The directory's ``videogen.json``; an empty meta when it has none."""
        path = Path(model_dir) / MODEL_META_FILE
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        data.pop("loras", None)  # adapters are the operator's to declare (with their weights), never a directory's
        return cls.model_validate(data)

    def with_loras(self, adapters) -> ModelMeta:
        """This meta with the operator's adapters (``LoraAdapter`` or ``LoraOffer`` by name) as what requests may
        name: their offers only, never their paths."""
        if not adapters and not self.loras:
            return self
        return self.model_copy(update={"loras": offers(adapters)})  # the declaration's, never an older report's

    def with_recipes(self, recipes) -> ModelMeta:
        """This meta with the operator's sampling recipes over the directory's, by name."""
        return self.model_copy(update={"recipes": {**self.recipes, **recipes}}) if recipes else self

    def write(self, model_dir: Path) -> None:
        (Path(model_dir) / MODEL_META_FILE).write_text(self.model_dump_json(indent=2, exclude_none=True))
