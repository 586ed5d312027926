"""``ParallelConfig``: how many devices one replica splits a job across, and along which axes.

``cfg`` (1 or 2): the two classifier-free-guidance branches on two groups of ranks (``cfg.py``);
``ulysses`` and ``ring``: diffusers' context parallelism over the video tokens (``sequence.py``).
The replica's world size is their product; each rank holds a whole copy of the weights (context parallelism
splits activations, never weights).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The device mesh's dimensions, outermost first. Ulysses is innermost so its all-to-all (every attention layer)
# runs between neighbouring ranks (the fastest link on a node); the CFG exchange (once a step) is outermost.
MESH_DIMS = ("cfg", "ring", "ulysses")


class ParallelConfig(BaseModel):
    """One replica's split of a job: ``cfg x ring x ulysses`` ranks (``world_size``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cfg: Literal[1, 2] = Field(default=1, description="2: the conditional and unconditional passes on two rank groups")
    ulysses: int = Field(default=1, ge=1, le=64, description="Ulysses degree: attention heads split across ranks")
    ring: int = Field(default=1, ge=1, le=64, description="ring degree: key/value blocks passed around the ranks")

    @property
    def world_size(self) -> int:
        return self.cfg * self.ulysses * self.ring

    @property
    def sequence_degree(self) -> int:
        """Ranks one CFG branch's tokens are split across."""
        return self.ulysses * self.ring

    @property
    def mesh_shape(self) -> tuple[int, int, int]:
        """Sizes along ``MESH_DIMS``."""
        return (self.cfg, self.ring, self.ulysses)

    def describe(self) -> str:
        """``cfg=2,ulysses=4`` (the form ``parse`` reads); ``single`` for one rank."""
        parts = [
            f"{name}={value}" for name, value in (("cfg", self.cfg), ("ulysses", self.ulysses), ("ring", self.ring))
        ]
        shown = [p for p in parts if not p.endswith("=1")]
        return ",".join(shown) or "single"

    @classmethod
    def parse(cls, text: str) -> ParallelConfig:
        """``cfg=2,ulysses=4`` (a command-line form) as a config; unknown keys and bad values raise ``ValueError``."""
        values: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, sep, value = item.partition("=")
            if not sep or not value.strip().isdigit():
                raise ValueError(f"parallel: {item!r} is not key=number; e.g. cfg=2,ulysses=4")
            values[key.strip()] = int(value)
        return cls.model_validate(values)
