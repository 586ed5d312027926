"""LoRA adapters an operator declares for a served model, and a request's choice among them.

The operator declares adapters per served model (``loras:`` in the app config's family or model entry, or
``--lora-config FILE`` on the CLI): a name, where its weights are (a local ``.safetensors`` file, a directory
holding one, or a Hugging Face repo id already in the local cache), the scales a request may use and which
denoiser expert it goes into (a two-expert model: Wan 2.2 A14B's high-noise ``transformer`` and low-noise
``transformer_2``). Weights are safetensors only: a pickle (.bin, .pt, .ckpt, ...) is refused when the config
is read. Clients only ever name an adapter (``loras: [{"name", "scale"}]``); what they see of one is its
``LoraOffer`` (scales, experts, description), never a path.

No torch here: the ingress validates requests with this; ``videogen.video.loras`` loads them into pipelines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from videogen.errors import InvalidRequestError, ModelUnavailableError
from videogen.video.hf_cache import hf_cached_repo
from videogen.video.request import MAX_REQUEST_LORAS, LoraChoice

# An adapter's name: what requests send, and (joined with '+', sorted) the replica-affinity key of a job's set.
LORA_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
# Which denoiser of a two-expert model an adapter is loaded into (a one-expert model has only the first).
LoraExperts = Literal["high", "low", "both"]
# Adapters one replica keeps loaded unless the operator says otherwise (``max_loras_per_replica``).
DEFAULT_MAX_LORAS_PER_REPLICA = 4
SAFETENSORS = ".safetensors"
# Formats a LoRA is also published in that unpickle on load (arbitrary code): never read.
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_MAX_ABS_SCALE = 10.0


class LoraOffer(BaseModel):
    """What a client may know of a declared adapter: the scales it may ask for and where it applies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale_range: tuple[float, float] = Field(default=(0.0, 2.0), description="the scales a request may use [lo, hi]")
    experts: LoraExperts = Field(
        default="both",
        description="a two-expert model's denoiser it goes into: high (transformer), low (transformer_2) or both",
    )
    description: str = Field(default="", max_length=400)

    @field_validator("scale_range")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        lo, hi = value
        if not -_MAX_ABS_SCALE <= lo <= hi <= _MAX_ABS_SCALE:
            raise ValueError(f"must be [lo, hi] with -{_MAX_ABS_SCALE:g} <= lo <= hi <= {_MAX_ABS_SCALE:g}")
        return value

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class LoraAdapter(LoraOffer):
    """One declared adapter (``loras.<name>``): its offer and where its weights are (the server's business)."""

    path: str = Field(
        min_length=1,
        description="a local .safetensors file, a directory with one, or a Hugging Face repo id already in the cache",
    )
    weight_name: str | None = Field(
        default=None, description="the .safetensors file inside a directory or repo (default: its only one)"
    )

    @model_validator(mode="after")
    def _safetensors_only(self) -> LoraAdapter:
        if self.weight_name is not None and not self.weight_name.endswith(SAFETENSORS):
            raise ValueError(f"weight_name {self.weight_name!r}: LoRA weights are read from {SAFETENSORS} files only")
        suffix = Path(self.path).suffix.lower()
        if suffix in _PICKLE_SUFFIXES:
            raise ValueError(
                f"path {self.path!r}: a {suffix} file is a pickle (it runs code when loaded); convert it to "
                f"{SAFETENSORS}"
            )
        if _looks_local(self.path) and Path(self.path).expanduser().exists():
            try:  # a directory without safetensors (e.g. only .bin) is refused now, not at its first job
                self.weights_file()
            except ModelUnavailableError as exc:
                raise ValueError(exc.message) from None
        return self

    def offer(self) -> LoraOffer:
        return LoraOffer(scale_range=self.scale_range, experts=self.experts, description=self.description)

    def weights_file(self) -> Path:
        """The ``.safetensors`` file to load, found offline; ``ModelUnavailableError`` when there is none."""
        path = Path(self.path).expanduser()
        if _looks_local(self.path):
            if not path.exists():
                raise ModelUnavailableError(f"LoRA weights {self.path} do not exist", field="loras")
        else:
            path = _cached_repo(self.path)
        if path.is_file():
            if path.suffix.lower() != SAFETENSORS:
                raise ModelUnavailableError(f"LoRA weights {path.name}: {SAFETENSORS} only", field="loras")
            return path
        if self.weight_name:
            found = path / self.weight_name
            if not found.is_file():
                raise ModelUnavailableError(f"LoRA weights: {self.weight_name} is not in {self.path}", field="loras")
            return found
        files = sorted(path.rglob(f"*{SAFETENSORS}"))
        if len(files) != 1:
            what = "no" if not files else f"{len(files)}"
            raise ModelUnavailableError(
                f"LoRA weights: {self.path} has {what} {SAFETENSORS} files; name one with weight_name"
                + ("" if files else f" (only {SAFETENSORS} is read, never pickles)"),
                field="loras",
            )
        return files[0]


def _looks_local(value: str) -> bool:
    return value.startswith(("/", ".", "~")) or value.lower().endswith(SAFETENSORS) or Path(value).exists()


def _cached_repo(repo_id: str) -> Path:
    """The snapshot of a repo already in the Hugging Face cache (never downloaded here)."""
    found = hf_cached_repo(repo_id)
    if found is None:
        raise ModelUnavailableError(
            f"LoRA {repo_id} is not in the local Hugging Face cache and nothing is downloaded at run time; fetch it "
            "ahead of time or name a local file",
            field="loras",
        )
    return found


def parse_loras(value: Mapping[str, Any] | None, where: str = "loras") -> dict[str, LoraAdapter]:
    """An operator's ``loras:`` mapping, validated (names as requests send them)."""
    adapters: dict[str, LoraAdapter] = {}
    for name, body in (value or {}).items():
        if not re.fullmatch(LORA_NAME_PATTERN, str(name)):
            raise ValueError(f"{where}: adapter name {name!r} must match {LORA_NAME_PATTERN}")
        adapters[str(name)] = body if isinstance(body, LoraAdapter) else LoraAdapter.model_validate(body)
    return adapters


def offers(adapters: Mapping[str, LoraOffer] | None) -> dict[str, LoraOffer]:
    """What clients see of declared adapters: their offers, never their paths."""
    return {
        name: LoraOffer.model_validate(a.model_dump(include=set(LoraOffer.model_fields)))
        for name, a in (adapters or {}).items()
    }


def settle_loras(
    chosen: Sequence[LoraChoice] | None, offered: Mapping[str, LoraOffer], recipe: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """The adapters a job runs with, ``[{"name", "scale"}]``: its recipe's first, then the request's (a request
    naming a recipe's adapter sets its scale). A name not offered, a scale outside its range: a 4xx naming the
    field (``loras[i].name``, ``loras[i].scale``) and what is allowed."""
    names = sorted(offered)
    settled: dict[str, float] = {}
    for item in recipe:
        offer = offered.get(item.name)
        if offer is None:
            raise InvalidRequestError(
                "recipe", f"runs the adapter {item.name!r}, which this model does not declare", allowed=names
            )
        settled[item.name] = _in_range("recipe", item.name, float(item.scale), offer)
    seen: set[str] = set()
    for i, item in enumerate(chosen or ()):
        offer = offered.get(item.name)
        if offer is None:
            why = f"; it declares: {', '.join(names)}" if names else "; it declares none"
            raise InvalidRequestError(
                f"loras[{i}].name", f"{item.name!r} is not a LoRA adapter of this model{why}", allowed=names
            )
        if item.name in seen:
            raise InvalidRequestError(f"loras[{i}].name", f"{item.name!r} is named twice", allowed=names)
        seen.add(item.name)
        settled[item.name] = _in_range(f"loras[{i}].scale", item.name, float(item.scale), offer)
    if len(settled) > MAX_REQUEST_LORAS:
        raise InvalidRequestError(
            "loras", f"a job runs at most {MAX_REQUEST_LORAS} adapters (with its recipe's); this one has {len(settled)}"
        )
    return [{"name": name, "scale": scale} for name, scale in settled.items()]


def _in_range(field: str, name: str, scale: float, offer: LoraOffer) -> float:
    lo, hi = offer.scale_range
    if not lo <= scale <= hi:
        raise InvalidRequestError(
            field, f"{scale:g} is outside the scale_range of {name!r}, [{lo:g}, {hi:g}]", allowed={"min": lo, "max": hi}
        )
    return scale


def adapter_set_id(loras: Sequence[Mapping[str, Any]] | None) -> str:
    """A job's adapter set as one stable string (sorted names joined by '+'; '' for none): the key Serve routes
    by, so a job goes to a replica already holding its adapters. Scales are not part of it: a scale is set per
    job without loading anything."""
    return "+".join(sorted({str(item["name"]) for item in loras or ()}))


__all__ = [
    "DEFAULT_MAX_LORAS_PER_REPLICA",
    "LORA_NAME_PATTERN",
    "LoraAdapter",
    "LoraExperts",
    "LoraOffer",
    "adapter_set_id",
    "offers",
    "parse_loras",
    "settle_loras",
]
