"""Named tiny models: a family's other tiny architectures besides its plain ``tiny`` (``--model tiny:<name>``).

A family declares them in its ``tiny.py`` as ``TINY_VARIANTS`` (name -> ``TinyVariant``), read through
``videogen.video.families.tiny_variants``; ``tiny.cache`` builds and saves each one like the plain tiny model,
in its own directory. Wan's ``wan2.2-a14b`` is two tiny transformers switched at ``boundary_ratio``, the
layout of Wan 2.2 A14B, which no plain tiny model has; ``wan2.2-ti2v-5b`` one model for text- and image-to-video
on Wan 2.2's 48-channel VAE; HunyuanVideo's ``framepack`` a FramePack checkpoint, which also serves
image-to-video from a first frame alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

TINY_PREFIX = "tiny:"


@dataclass(frozen=True)
class TinyVariant:
    """One named tiny model of a family: the tasks it offers and how to build it (random weights; seed first)."""

    name: str
    description: str
    tasks: tuple[str, ...]
    build: Callable[[str], Any]  # build(task) -> a diffusers pipeline
    experts: int = 1  # denoiser experts switched by timestep (Wan 2.2 A14B: 2)
    call_kwargs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # per task, like TINY_CALL_KWARGS
    # The ``_class_name`` ``build`` saves where it decides the pipeline (a FramePack checkpoint serves image-to-video
    # through its own class: ``VideoModelSpec.checkpoint_tasks``); None: the family's class for each task.
    checkpoint_class: str | None = None
    # Its size grid where coarser than the family's (VAE spatial compression x transformer patch; Wan 2.2 TI2V: 32).
    # Stated so the ingress knows it before the model is built; a test checks it against the saved configs.
    resolution_multiple: int | None = None

    @property
    def model(self) -> str:
        """The model source value that names it."""
        return f"{TINY_PREFIX}{self.name}"
