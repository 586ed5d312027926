"""LoRA adapters resident in a worker's pipelines, loaded with diffusers' own LoRA API and switched per job.

A worker keeps, per loaded pipeline, up to ``max_loras_per_replica`` declared adapters loaded (least recently
used evicted with ``delete_adapters``). A job's adapters are loaded on first use (``load_lora_weights(...,
adapter_name=name)``, into Wan 2.2 A14B's low-noise ``transformer_2`` with ``load_into_transformer_2=True`` as
the adapter's ``experts`` say) and made active with ``set_adapters(names, scales)``; a job without adapters
runs with them disabled. The base weights are never reloaded: switching adapters costs at most loading the
adapter itself.

An adapter is checked against the model before it is loaded (``check_fits``): weights that name modules this
model does not have, or have other shapes, are refused with the reason (a 4xx-coded ``ModelUnavailableError``
naming ``loras[i].name`` on the job), nothing of it stays loaded and the replica serves on. diffusers alone
would only warn about keys it could not place, and run the job without them.

With regional compile on, adapters are hot-swapped into slots instead (``videogen.video.lora_hotswap``), so
switching never recompiles.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from videogen.errors import InvalidRequestError, ModelUnavailableError
from videogen.video.lora_config import LoraAdapter

logger = logging.getLogger(__name__)


class LoraMismatch(ValueError):
    """An adapter's weights do not fit the model (another model's keys, other shapes, no weights for it)."""


def denoiser_slots(pipe: Any) -> dict[str, str]:
    """The pipeline's denoisers an adapter may go into, by expert: ``high`` (its transformer or UNet) and, for a
    two-expert model, ``low`` (``transformer_2``) -> the component's attribute name."""
    first = "transformer" if getattr(pipe, "transformer", None) is not None else "unet"
    slots = {"high": first}
    if getattr(pipe, "transformer_2", None) is not None:
        slots["low"] = "transformer_2"
    return slots


def components_for(pipe: Any, adapter: LoraAdapter) -> list[str]:
    """The denoiser components ``adapter`` is loaded into, as its ``experts`` say."""
    slots = denoiser_slots(pipe)
    if adapter.experts == "low" and "low" not in slots:
        raise LoraMismatch("it is declared for the low-noise expert (experts: low), and this model has one denoiser")
    wanted = ("high", "low") if adapter.experts == "both" else (adapter.experts,)
    return [slots[e] for e in wanted if e in slots]


def read_state(pipe: Any, adapter: LoraAdapter) -> dict[str, Any]:
    """The adapter's weights as diffusers converts them for this pipeline (its own ``lora_state_dict``), read
    from its safetensors file only."""
    file = adapter.weights_file()
    out = pipe.lora_state_dict(str(file.parent), weight_name=file.name, use_safetensors=True, local_files_only=True)
    return out[0] if isinstance(out, tuple) else out  # the UNet loaders also return the network alphas


def check_fits(pipe: Any, state: Mapping[str, Any], components: Sequence[str]) -> None:
    """Raise ``LoraMismatch`` unless every LoRA weight names a linear layer of the denoiser with its shape."""
    prefix = "unet" if components and components[0] == "unet" else "transformer"  # the key prefix diffusers loads
    lora_keys = [k for k in state if ".lora_A." in k or ".lora_B." in k]
    if not lora_keys:
        if not state:
            raise LoraMismatch("its file holds no weights")
        return  # another key format (converted while loading): diffusers' own checks and the load check decide
    foreign = sorted({k.split(".", 1)[0] for k in lora_keys} - {prefix})
    if foreign:
        raise LoraMismatch(f"its weights are for {', '.join(foreign)}, not this model's {prefix}")
    for name in components:
        model = getattr(pipe, name)
        missing, shapes = [], []
        for key in lora_keys:
            path, _, rest = key[len(prefix) + 1 :].partition(".lora_")
            try:
                layer = model.get_submodule(path)
            except AttributeError:
                missing.append(path)
                continue
            size = tuple(state[key].shape)
            if rest.startswith("A.") and getattr(layer, "in_features", size[-1]) != size[-1]:
                shapes.append(f"{path}: {size} does not take {layer.in_features} inputs")
            elif rest == "B.weight" and getattr(layer, "out_features", size[0]) != size[0]:
                shapes.append(f"{path}: {size} does not give {layer.out_features} outputs")
        if missing:
            raise LoraMismatch(
                f"{len(missing)} of its {len(lora_keys)} weights name layers this model's {name} does not have "
                f"(e.g. {missing[0]}): it was made for another model"
            )
        if shapes:
            raise LoraMismatch(f"its weights do not fit this model's {name} ({shapes[0]}): made for another size")


def _forget(pipe: Any, name: str) -> None:
    """Remove whatever of adapter ``name`` is loaded in the pipeline's denoisers (after a failed load too)."""
    for component in denoiser_slots(pipe).values():
        model = getattr(pipe, component)
        if name in (getattr(model, "peft_config", None) or {}):
            model.delete_adapters([name])


def refusal(i: int, name: str, reason: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"loras[{i}].name: the LoRA adapter {name!r} cannot run on this model: {reason}",
        field=f"loras[{i}].name",
        adapter=name,
    )


class ResidentLoras:
    """The adapters loaded into one pipeline (most recently used last) and the ones refused for it."""

    def __init__(self, pipe: Any, declared: Mapping[str, LoraAdapter], capacity: int):
        self.pipe = pipe
        self.declared = declared
        self.capacity = capacity
        self.loaded: OrderedDict[str, list[str]] = OrderedDict()  # name -> the components it is in
        self.refused: dict[str, str] = {}  # name -> why it does not fit (not tried again)
        self.loads = 0  # adapter loads so far (each is a file read; the base model is never reloaded)
        self.mode = "set_adapters"

    def apply(self, wanted: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Make exactly ``wanted`` (``[{"name", "scale"}]``, settled by ``settle_loras``) active, loading what is
        missing and evicting what was least recently used; what was done, for the job's load report."""
        started = time.perf_counter()
        names = [str(w["name"]) for w in wanted]
        check_capacity(names, self.capacity)
        loaded_now, evicted = [], []
        for i, name in enumerate(names):
            if name not in self.loaded:
                while len(self.loaded) >= self.capacity:
                    victim = next(n for n in self.loaded if n not in names)
                    _forget(self.pipe, victim)
                    del self.loaded[victim]
                    evicted.append(victim)
                self.loaded[name] = self._load(i, name)
                loaded_now.append(name)
            self.loaded.move_to_end(name)
        self._activate(wanted)
        return report(self, wanted, loaded_now, evicted, started)

    def _load(self, i: int, name: str) -> list[str]:
        if name in self.refused:
            raise refusal(i, name, self.refused[name])
        adapter = self.declared.get(name)
        if adapter is None:  # the ingress checked the name against the same declaration; a CLI caller may not have
            raise InvalidRequestError(
                f"loras[{i}].name", f"{name!r} is not declared here", allowed=sorted(self.declared)
            )
        if not hasattr(self.pipe, "load_lora_weights"):
            raise refusal(i, name, f"{type(self.pipe).__name__} does not take LoRA adapters")
        try:
            components = components_for(self.pipe, adapter)
            check_fits(self.pipe, read_state(self.pipe, adapter), components)
            file = adapter.weights_file()
            for component in components:
                self.pipe.load_lora_weights(
                    str(file.parent),
                    weight_name=file.name,
                    adapter_name=name,
                    use_safetensors=True,
                    local_files_only=True,
                    **({"load_into_transformer_2": True} if component == "transformer_2" else {}),
                )
                if name not in (getattr(getattr(self.pipe, component), "peft_config", None) or {}):
                    raise LoraMismatch(f"none of its weights apply to this model's {component}")
                lift_out_of_storage_dtype(getattr(self.pipe, component), name)
            self.loads += 1
            return components
        except ModelUnavailableError:  # its file is missing: not remembered, the operator may put it back
            _forget(self.pipe, name)
            raise
        except Exception as exc:  # noqa: BLE001 - diffusers' and peft's refusals are ValueError/RuntimeError/...
            _forget(self.pipe, name)
            reason = str(exc) if isinstance(exc, LoraMismatch) else f"{type(exc).__name__}: {str(exc)[:300]}"
            self.refused[name] = reason
            logger.warning("LoRA adapter %s refused: %s", name, reason)
            raise refusal(i, name, reason) from None

    def _activate(self, wanted: Sequence[Mapping[str, Any]]) -> None:
        for component in denoiser_slots(self.pipe).values():
            model = getattr(self.pipe, component)
            if not getattr(model, "peft_config", None):
                continue  # nothing was ever loaded into it
            here = [w for w in wanted if component in self.loaded.get(str(w["name"]), ())]
            if not here:
                model.disable_lora()  # runs exactly as the base model
                continue
            model.enable_lora()
            model.set_adapters([str(w["name"]) for w in here], [float(w["scale"]) for w in here])


def lift_out_of_storage_dtype(model: Any, name: str) -> None:
    """An adapter loaded onto fp8-stored weights (``fp8_storage``: diffusers' layerwise casting) runs in the compute
    dtype. peft makes an adapter's A and B in its base layer's dtype, fp8 here, which no op takes ("mul ... not
    implemented for Float8_e4m3fn"); diffusers keeps adapters out of the casting only for those loaded before it
    was enabled (``enable_layerwise_casting`` skips peft's layers), and ours load later, per request. They are
    small (rank x width): kept in the compute dtype the base layer's hook casts to."""
    for module in model.modules():
        registry = getattr(getattr(module, "base_layer", None), "_diffusers_hook", None)
        hook = registry.get_hook("layerwise_casting") if registry is not None else None
        if hook is None:
            continue
        for layers in (getattr(module, "lora_A", {}), getattr(module, "lora_B", {})):
            if name in layers:
                layers[name].to(dtype=hook.compute_dtype)


def check_capacity(names: Sequence[str], capacity: int) -> None:
    if len(names) > capacity:
        raise InvalidRequestError(
            "loras",
            f"names {len(names)} adapters; a replica of this model holds at most {capacity} at once "
            "(max_loras_per_replica)",
            allowed={"max": capacity},
        )


def report(resident: Any, wanted, loaded_now: list[str], evicted: list[str], started: float) -> dict[str, Any]:
    return {
        "applied": [{"name": str(w["name"]), "scale": float(w["scale"])} for w in wanted],
        "loaded": loaded_now,
        "evicted": evicted,
        "resident": list(resident.loaded),
        "mode": resident.mode,
        "seconds": round(time.perf_counter() - started, 4),
    }
