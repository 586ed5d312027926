"""An ``ArchPreset`` read from a diffusers model directory's config files (no weights are read).

The cost model works on architectures; this lets it price any model VideoGen can load
(a tiny model, a local directory, a snapshot in the Hugging Face cache), not only the
built-in presets: each component's ``config.json`` gives its class and constructor
values, from which the cost model builds it on the meta device.
"""

from __future__ import annotations

import importlib
import inspect
import json
import threading
from pathlib import Path
from typing import Any

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch

# Keys a saved config carries that are bookkeeping, not architecture.
_TRANSFORMERS_BOOKKEEPING = ("architectures", "transformers_version", "dtype", "torch_dtype", "_name_or_path")


def _diffusers_component(name: str, class_name: str, config: dict[str, Any], module: str | None) -> ComponentArch:
    cls = getattr(importlib.import_module(module or "diffusers"), class_name)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    kwargs = {k: v for k, v in config.items() if not k.startswith("_") and k in accepted}
    return ComponentArch(name=name, library="diffusers", class_name=class_name, config=kwargs, module=module)


def _transformers_component(name: str, class_name: str, config: dict[str, Any], module: str | None) -> ComponentArch:
    del module  # transformers exports every class at its root
    import transformers

    config_class = type(transformers.AutoConfig.for_model(config["model_type"])).__name__
    kwargs = {k: v for k, v in config.items() if k not in _TRANSFORMERS_BOOKKEEPING and k != "model_type"}
    return ComponentArch(
        name=name, library="transformers", class_name=class_name, config=kwargs, config_class=config_class
    )


# diffusers and transformers import their classes lazily; two threads importing the same one at once
# (the ingress prices concurrent requests in threads) can see it missing, and a component would be
# silently dropped from the preset: one thread at a time.
_IMPORT_LOCK = threading.Lock()


def _is_module(library: str, class_name: str) -> bool:
    import torch

    with _IMPORT_LOCK:
        try:
            module = importlib.import_module(library)
        except ModuleNotFoundError:  # a library diffusers knows and VideoGen does not build: not a component here
            return False
        cls = getattr(module, class_name, None)
    return isinstance(cls, type) and issubclass(cls, torch.nn.Module)


def preset_from_model_dir(model_dir: str | Path, family: str, task: str, preset_id: str) -> ArchPreset:
    """The architecture saved in ``model_dir`` (a diffusers pipeline directory) as a one-task preset."""
    root = Path(model_dir)
    index = json.loads((root / "model_index.json").read_text())
    components: list[ComponentArch] = []
    scheduler: SchedulerArch | None = None
    guider: SchedulerArch | None = None
    for name, entry in index.items():
        if name.startswith("_") or not isinstance(entry, list) or len(entry) != 2 or None in entry:
            continue
        library, class_name = entry
        module = None
        if library not in ("diffusers", "transformers"):
            # a pipeline's own module (LTX-2's connectors and vocoder: ["ltx2", "LTX2Vocoder"]), as diffusers loads it
            library, module = "diffusers", f"diffusers.pipelines.{library}"
        if name == "scheduler":
            raw = json.loads((root / name / "scheduler_config.json").read_text())
            scheduler = SchedulerArch(
                class_name=class_name, config={k: v for k, v in raw.items() if not k.startswith("_")}
            )
        elif name == "guider":  # HunyuanVideo 1.5's: its guidance scale is the checkpoint's default
            path = root / name / "guider_config.json"
            raw = json.loads(path.read_text()) if path.is_file() else {}
            guider = SchedulerArch(
                class_name=class_name, config={k: v for k, v in raw.items() if not k.startswith("_")}
            )
        elif _is_module(module or library, class_name):
            config = json.loads((root / name / "config.json").read_text())
            build = _diffusers_component if library == "diffusers" else _transformers_component
            components.append(build(name, class_name, config, module))
    names = {c.name for c in components}
    denoiser = "transformer" if "transformer" in names else "unet"
    # The pipeline's own settings its cost depends on (model_index.json keeps what register_to_config saw):
    # Wan 2.2 TI2V's per-token timesteps, Wan 2.2 A14B's switch to transformer_2.
    pipeline_kwargs = {k: index[k] for k in ("expand_timesteps", "boundary_ratio") if index.get(k) is not None}
    second = "transformer_2" if "transformer_2" in names and "boundary_ratio" in pipeline_kwargs else None
    return ArchPreset(
        id=preset_id,
        family=family,
        checkpoint=str(index.get("_name_or_path") or root.name),
        tasks=[task],
        pipeline_classes={task: index["_class_name"]},
        components=components,
        denoiser=denoiser,
        denoiser_2=second,
        pipeline_kwargs=pipeline_kwargs,
        scheduler=scheduler or SchedulerArch(class_name="FlowMatchEulerDiscreteScheduler", config={}),
        guider=guider,
        notes=f"read from the model directory's config files ({root.name})",
    )
