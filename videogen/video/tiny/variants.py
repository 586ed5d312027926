"""Named tiny models: a family's other tiny architectures besides its plain ``tiny`` (``--model tiny:<name>``).

A family declares them in its ``tiny.py`` as ``TINY_VARIANTS`` (name -> ``TinyVariant``), read through
``videogen.video.families.tiny_variants``; ``tiny.cache`` builds and saves each one like the plain tiny model,
in its own directory. Wan's ``wan2.2-a14b`` is two tiny transformers switched at ``boundary_ratio``, the
layout of Wan 2.2 A14B, which no plain tiny model has.
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

    @property
    def model(self) -> str:
        """The model source value that names it."""
        return f"{TINY_PREFIX}{self.name}"
