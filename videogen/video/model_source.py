"""Where a family's weights come from: ``tiny``, ``tiny:<variant>`` (a named tiny model the
family declares, e.g. ``tiny:wan2.2-a14b``), ``arch:<preset>`` (the real-size architecture of a
published checkpoint with random weights, built on the device), a local directory, or a
Hugging Face id that is already in the local cache. Never the network.

The operator chooses the source (CLI flag or serve config); clients never do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from videogen.errors import ModelUnavailableError
from videogen.video.checkpoint_facts import directory_facts, preset_facts
from videogen.video.hf_cache import hf_cached_snapshot
from videogen.video.model_meta import LATENT_UPSAMPLER_DIR, ModelMeta
from videogen.video.registry import get_spec

TINY = "tiny"
TINY_PREFIX = "tiny:"
ARCH_PREFIX = "arch:"


class ModelSource(BaseModel):
    """The model a family is set to use. ``value`` None means the family's default real model."""

    model_config = ConfigDict(frozen=True)
    family: str
    value: str | None = None

    @property
    def is_tiny(self) -> bool:
        """The plain tiny model or a named tiny variant (both built here, offline)."""
        return self.value == TINY or bool(self.value) and self.value.strip().lower().startswith(TINY_PREFIX)

    @property
    def tiny_variant_name(self) -> str | None:
        """``tiny:<name>`` -> the name as written (checked by ``tiny_variant``); None for anything else."""
        if not self.is_tiny or self.value == TINY:
            return None
        return self.value.strip()[len(TINY_PREFIX) :].strip().lower()

    def tiny_variant(self):
        """The ``TinyVariant`` a ``tiny:<name>`` source names; ``ModelUnavailableError`` (field ``model``, the
        allowed values) for a name the family does not declare; None for the plain tiny model."""
        from videogen.video.families import tiny_variant

        name = self.tiny_variant_name
        return None if name is None else tiny_variant(self.family, name)

    @property
    def is_arch(self) -> bool:
        return bool(self.value) and self.value.strip().lower().startswith(ARCH_PREFIX)

    def arch_preset(self):
        """The ``ArchPreset`` an ``arch:`` source names; refused when it is another family's."""
        from videogen.video.arch.catalog import get_preset, presets_for

        preset = get_preset(self.value or "")
        if preset.family != self.family:
            allowed = [f"{ARCH_PREFIX}{p.id}" for p in presets_for(self.family)]
            raise ModelUnavailableError(
                f"{self.value} is a {preset.family} architecture, not a {self.family} one",
                field="model",
                allowed=allowed,
            )
        return preset

    @property
    def kind(self) -> str:
        if self.is_tiny:
            return "tiny"
        if self.is_arch:
            return "arch"
        if self.value and _looks_like_path(self.value):
            return "local_dir"
        return "hf_cache"

    def model_id_for(self, task: str) -> str:
        if self.value:
            return self.value
        spec = get_spec(self.family)
        return spec.default_model_ids.get(task) or next(iter(spec.default_model_ids.values()))

    def tiny_unavailable_reason(self, task: str) -> str | None:
        """Why this tiny source has no model for ``task`` (an unknown variant, a task it does not offer); None
        when it has one."""
        try:
            variant = self.tiny_variant()
        except ModelUnavailableError as exc:  # a name the family does not declare: nothing to build
            return exc.message
        if variant is None or task in variant.tasks:
            return None
        return f"{variant.model} offers {', '.join(variant.tasks)}; --model tiny has {task}"

    def is_available(self, task: str) -> bool:
        if self.is_tiny:
            return self.tiny_unavailable_reason(task) is None
        if self.is_arch:  # nothing to find on disk: only the preset's tasks exist
            return task in self.arch_preset().tasks
        try:
            self.local_dir(task, build_tiny=False)
            return True
        except ModelUnavailableError:
            return False

    def local_dir(self, task: str, build_tiny: bool = True) -> Path:
        """The directory to load from; builds the tiny model on first use."""
        if self.is_arch:
            raise ModelUnavailableError(f"{self.value} is built in memory; it has no model directory", model=self.value)
        if self.is_tiny:
            from videogen.video.tiny.cache import ensure_tiny_model, tiny_model_dir

            variant = self.tiny_variant_name
            if build_tiny:
                return ensure_tiny_model(self.family, task, variant)
            return tiny_model_dir(self.family, task, variant)
        model_id = self.model_id_for(task)
        if self.kind == "local_dir":
            path = Path(model_id).expanduser()
            if not path.is_dir():
                raise ModelUnavailableError(f"model directory {path} does not exist", model=model_id)
        else:
            path = hf_cached_snapshot(model_id)
            if path is None:
                raise ModelUnavailableError(
                    f"{model_id} is not in the local Hugging Face cache and nothing is downloaded at run time; "
                    f"fetch it ahead of time (huggingface-cli download {model_id}) or use a local directory",
                    model=model_id,
                )
        self._check_family(path, model_id)
        return path

    def _check_family(self, path: Path, model_id: str) -> None:
        """Refuse a directory that holds another family's model."""
        allowed = get_spec(self.family).checkpoint_classes
        for name in ("model_index.json", "config.json"):
            if (path / name).is_file():
                found = json.loads((path / name).read_text()).get("_class_name")
                if found not in allowed:
                    raise ModelUnavailableError(
                        f"{model_id} holds a {found}, not a {self.family} model (expected one of {allowed})",
                        model=model_id,
                    )
                return
        raise ModelUnavailableError(
            f"{model_id} has no model_index.json: not a diffusers model directory", model=model_id
        )

    def model_meta(self, task: str) -> ModelMeta:
        """What the model directory says about itself (``videogen.json``); empty when it says nothing.

        A tiny model's is known without building it: the same ``ModelMeta`` its directory gets.
        """
        if self.is_tiny:
            from videogen.video.tiny.cache import tiny_meta

            return tiny_meta(self.family, task, self.tiny_variant_name)
        if self.is_arch:
            preset = self.arch_preset()
            return preset.model_meta(task).model_copy(update=preset_facts(preset, task))
        try:
            model_dir = self.local_dir(task, build_tiny=False)
        except ModelUnavailableError:
            return ModelMeta()
        meta = ModelMeta.read(model_dir)
        if meta.experts is None:  # a diffusers directory says it too: model_index.json lists its denoisers
            meta.experts = _experts_in_index(model_dir)
        if meta.latent_upsampler is None:  # its folder is what the loader reads (``LATENT_UPSAMPLER_DIR``)
            meta.latent_upsampler = (model_dir / LATENT_UPSAMPLER_DIR / "config.json").is_file()
        # its pipeline class and size grid, where its files say otherwise than the family (videogen.json beats them)
        for name, value in directory_facts(model_dir, self.family, task).items():
            if getattr(meta, name) is None:
                setattr(meta, name, value)
        return meta

    def describe(self) -> dict:
        described = {
            "source": self.kind,
            "model_id": None if self.is_tiny else (self.value or None),
            **({"tiny_variant": self.tiny_variant_name} if self.tiny_variant_name else {}),
            "default_model_ids": None if (self.is_tiny or self.value) else get_spec(self.family).default_model_ids,
        }
        if self.is_arch:
            preset = self.arch_preset()
            described["arch"] = {
                "checkpoint": preset.checkpoint,
                "tasks": list(preset.tasks),
                "total_params": preset.total_params(),
            }
        return described


def _experts_in_index(model_dir: Path) -> int | None:
    """2 when the pipeline has a ``transformer_2`` it switches to (Wan 2.2 A14B: ``boundary_ratio`` set), else 1;
    None when ``model_index.json`` cannot be read."""
    try:
        index = json.loads((model_dir / "model_index.json").read_text())
    except (OSError, ValueError):
        return None
    second = index.get("transformer_2")
    has_second = isinstance(second, list) and None not in second
    return 2 if has_second and index.get("boundary_ratio") is not None else 1


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", ".", "~")) or os.sep in value.strip("/") and Path(value).expanduser().exists()
