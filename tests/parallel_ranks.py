"""The rank side of ``tests/unit/test_parallel_ranks.py``: one process of a 4-rank gloo replica (cfg 2 x ulysses 2).

Each rank runs the same scenarios in the same order on the tiny Wan and CogVideoX pipelines (loaded with
``from_pretrained`` from the session's tiny models) and saves what it saw to ``rank<N>.pt``; the test compares.
The references are plain pipeline calls in the same process, before any parallel layer touches the pipeline.
Importable (not a test module) so ``torch.multiprocessing`` can start it in spawned processes.
"""

from __future__ import annotations

from pathlib import Path

STEPS = 2
STOP_STEPS, STOP_AT = 3, 1  # the stop scenario: rank 3 alone wants to stop from step index 1 of 3
CONFIG = {"cfg": 2, "ulysses": 2}


def _call(pipe, steps: int = STEPS, **extra):
    import torch

    kwargs = dict(
        prompt="a red fox in the snow",
        negative_prompt="blurry",
        height=32,
        width=32,
        num_frames=9,
        num_inference_steps=steps,
        guidance_scale=5.0,
        max_sequence_length=16,
        output_type="latent",
        generator=torch.Generator("cpu").manual_seed(7),
    )
    return pipe(**kwargs, **extra).frames


def _watched(pipe, scenario: str, seen: dict, **extra):
    """``_call`` recording the (batch, tokens) of every call of the denoiser's last block in ``seen[scenario]``:
    what each rank computed itself (a split halves one of them; a branch left to the other rank is not called)."""
    shapes: list[tuple[int, int]] = []
    # the last block: diffusers' context-parallel hook splits the tokens on their way into Wan's first one
    block = (getattr(pipe.transformer, "blocks", None) or pipe.transformer.transformer_blocks)[-1]
    handle = block.register_forward_pre_hook(
        lambda _m, args, kwargs: shapes.append(tuple((args[0] if args else kwargs["hidden_states"]).shape[:2])),
        with_kwargs=True,
    )
    try:
        seen[scenario] = _call(pipe, **extra)
    finally:
        handle.remove()
    seen[f"{scenario}_blocks"] = shapes


def _unpatched_outcome(pipe, groups) -> str:
    """What diffusers' own ``enable_parallelism`` does here without ``one_device_on_cpu_hosts`` (a throwaway copy
    of the transformer: a call that fails leaves a model untouched, one that works would change it)."""
    from diffusers import ContextParallelConfig

    throwaway = type(pipe.transformer).from_config(pipe.transformer.config)
    try:
        throwaway.enable_parallelism(config=ContextParallelConfig(ulysses_degree=2, mesh=groups.mesh))
    except Exception as exc:  # noqa: BLE001 - the type is the result
        return type(exc).__name__
    return "ok"


def _stop_run(pipe, groups, rank: int) -> dict:
    """A 3-step run that rank 3 alone asks to stop from step index 1: every rank must leave at the same step."""
    import torch.distributed as dist

    from videogen.errors import GenerationCancelled
    from videogen.video.parallel import AgreedStop
    from videogen.video.stage_clock import step_callback_kwargs

    seen: list[int] = []
    stop = AgreedStop(groups, local=lambda: rank == 3 and bool(seen) and seen[-1] >= STOP_AT)

    def on_step(step_index: int) -> None:
        seen.append(step_index)
        if stop():
            raise GenerationCancelled(f"cancelled at step index {step_index}")

    stopped_at = None
    try:
        _call(pipe, steps=STOP_STEPS, **step_callback_kwargs(pipe, on_step))
    except GenerationCancelled:
        stopped_at = seen[-1]
    dist.barrier()  # every rank got out of the pipeline: none is left waiting in a collective
    return {"stopped_at": stopped_at, "asked": stop.asked}


def _two_experts(pipe, parallel, seen: dict) -> None:
    """Wan 2.2 A14B's layout: step 0 on ``transformer``, step 1 on ``transformer_2`` (boundary 0.875); both split."""
    seen["a14b_reference"] = _call(pipe)
    seen["a14b_report"] = parallel.prepare(pipe, "wan")
    calls = {"transformer": 0, "transformer_2": 0}
    for name in calls:
        getattr(pipe, name).register_forward_pre_hook(lambda *_, name=name: calls.__setitem__(name, calls[name] + 1))
    seen["a14b"] = _call(pipe)
    seen["a14b_calls"] = calls


def run_rank(rank: int, port: int, wan_dir: str, cog_dir: str, a14b_dir: str, out_dir: str) -> None:
    import torch
    from diffusers import CogVideoXPipeline, WanPipeline

    from videogen.errors import InvalidRequestError
    from videogen.video.parallel import ParallelConfig, ParallelRank
    from videogen.video.parallel.cfg import disable_cfg_parallel, enable_cfg_parallel

    torch.set_num_threads(1)  # four ranks on a small CPU box
    parallel = ParallelRank.join(ParallelConfig(**CONFIG), rank, "127.0.0.1", port, timeout_s=120)
    groups = parallel.groups
    seen: dict = {"rank": rank, "cfg_rank": groups.cfg_rank, "seed": parallel.same_seed(1000 + rank)}
    wan = WanPipeline.from_pretrained(wan_dir, torch_dtype=torch.float32)
    cog = CogVideoXPipeline.from_pretrained(cog_dir, torch_dtype=torch.float32)
    _watched(wan, "wan_reference", seen)
    _watched(cog, "cog_reference", seen)

    seen["unpatched"] = _unpatched_outcome(wan, groups)
    # cfg only: both ulysses halves compute it alike, each with its cfg partner
    enable_cfg_parallel(wan, groups, "sequential")
    _watched(wan, "wan_cfg", seen)
    disable_cfg_parallel(wan)
    # the whole replica's split, through the API a replica uses: context parallel + the CFG hook
    seen["report"] = parallel.prepare(wan, "wan")
    seen["accelerators_after"] = torch.accelerator.device_count()
    _watched(wan, "wan_cfg_ulysses", seen)
    seen["stop"] = _stop_run(wan, groups, rank)
    disable_cfg_parallel(wan)
    _watched(wan, "wan_ulysses", seen)  # sequence parallel alone: each cfg half runs both branches itself

    try:  # CogVideoX has no context-parallel plan: the replica's ulysses 2 is refused for it, naming the field
        parallel.prepare(cog, "cogvideox", where="families.cogvideox.parallel")
        seen["cog_refused"] = None
    except InvalidRequestError as exc:
        seen["cog_refused"] = exc.field
    enable_cfg_parallel(cog, groups, "batched")
    _watched(cog, "cog_cfg", seen)

    _two_experts(WanPipeline.from_pretrained(a14b_dir, torch_dtype=torch.float32), parallel, seen)

    torch.save(seen, Path(out_dir) / f"rank{rank}.pt")
    parallel.close()
