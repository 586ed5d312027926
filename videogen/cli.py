"""``videogen`` command line: models, runtime, generate.

The ROCm environment is applied first, before anything imports torch; every
other import happens inside the commands.
"""

from __future__ import annotations

from videogen.rocm_env import apply_rocm_env

apply_rocm_env()

import argparse
import json
import sys

from videogen.cli_loras import add_lora_flags, lora_config_from_args
from videogen.cli_policy import add_policy_flags, policy_overrides
from videogen.cli_recipes import add_recipe_flags, recipes_from_args
from videogen.cli_request import EXIT_BAD_INPUT, add_request_flags, request_from_args
from videogen.errors import VideoGenError

# Request fields whose CLI flag has another name.
_FLAG_FOR_FIELD = {"num_frames": "--frames", "num_inference_steps": "--steps", "guidance_scale": "--guidance"}


def _flag(field: str) -> str:
    if field.startswith("loras"):  # loras, loras[i].name, loras[i].scale: the --lora flag
        return "--lora"
    if field.startswith("parallel."):  # a key of --parallel cfg=2,ulysses=4
        return f"--parallel {field.partition('.')[2]}"
    return _FLAG_FOR_FIELD.get(field, "--" + field.replace("_", "-"))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, no usage dump
        print(f"videogen: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="videogen", description="Text/image-to-video with open diffusion models.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    models = sub.add_parser("models", help="list the model families and what they can do here")
    models.add_argument(
        "--model",
        help="tiny | arch:PRESET (arch: alone lists every preset) | DIR | HF_ID (default: each family's real default model)",
    )
    models.add_argument("--json", action="store_true")

    runtime = sub.add_parser("runtime", help="hardware profile, load policy and runtime facts")
    runtime.add_argument("--json", action="store_true")

    gen = sub.add_parser("generate", help="generate one video")
    add_request_flags(gen)
    add_policy_flags(gen)
    add_lora_flags(gen)
    add_recipe_flags(gen)
    gen.add_argument("-o", "--output", required=True, help="output MP4 path")
    gen.add_argument("--json", action="store_true", help="print the result as JSON")

    est = sub.add_parser("estimate", help="what a request would cost (FLOPs, memory, time) and where it would run")
    add_request_flags(est, prompt_required=False)
    add_policy_flags(est)
    add_recipe_flags(est)
    est.add_argument(
        "--gpu", help="estimate for this GPU instead of this machine, e.g. 'NVIDIA H200' or 'AMD Instinct MI300X'"
    )
    est.add_argument("--vram", type=float, help="with --gpu: its memory in GB (default: the named card's)")
    est.add_argument("--job-timeout", type=float, dest="job_timeout_s", help="refuse what would run longer (seconds)")
    est.add_argument(
        "--parallel",
        help="price one job split across ranks, e.g. cfg=2,ulysses=4 (each rank holds the whole model): the figures "
        "are then one rank's, with the bytes each sends and their time on the device's link",
    )
    est.add_argument("--json", action="store_true")

    from videogen.cli_client import add_client_parsers  # submit / status / wait / download --server URL

    add_client_parsers(sub)
    return parser


def cmd_models(args) -> int:
    from videogen.video.hardware import VideoHardwareProfile
    from videogen.video.model_source import ModelSource
    from videogen.video.registry import SPECS
    from videogen.video.support import describe_model

    profile = VideoHardwareProfile.detect()
    if args.model and args.model.strip().lower().startswith("arch:"):
        return _arch_models(args, profile)
    models = [describe_model(spec, profile, ModelSource(family=fid, value=args.model)) for fid, spec in SPECS.items()]
    if args.json:
        print(json.dumps({"models": models}, indent=2))
        return 0
    for m in models:  # the offered tasks with their reasons; the others on one line (--json has every reason)
        tasks = ", ".join(f"{t}={m['task_support'][t]}" for t in m["tasks"])
        print(f"{m['id']:18} {m['effective_support_level']:14} {tasks}")
        for task in m["tasks"]:
            for reason in m["support_reasons"].get(task, []):
                print(f"{'':18} - {task}: {reason}")
        others = [t for t in m["task_support"] if t not in m["tasks"]]
        if others:
            print(f"{'':18} - not offered: {', '.join(others)}")
    return 0


def _arch_models(args, profile) -> int:
    """``--model arch:`` lists every preset; ``arch:ID`` that preset and what its family can do with it here."""
    from videogen.video.arch.catalog import describe_presets, get_preset
    from videogen.video.model_source import ModelSource
    from videogen.video.registry import get_spec
    from videogen.video.support import describe_model

    name = args.model.strip().lower()
    if name in ("arch:", "arch:all"):
        presets, models = describe_presets(), []
    else:
        preset = get_preset(name)
        presets = [preset.describe()]
        models = [describe_model(get_spec(preset.family), profile, ModelSource(family=preset.family, value=name))]
    if args.json:
        print(json.dumps({"presets": presets, "models": models}, indent=2))
        return 0
    for p in presets:
        parts = ", ".join(f"{c['name']} {c['params'] / 1e9:.2f}B" for c in p["components"])
        print(f"{p['model']:34} {p['family']:15} {p['total_params'] / 1e9:6.2f}B  ({parts})")
    return 0


def cmd_runtime(args) -> int:
    from videogen.video.worker import GenerationWorker

    diag = GenerationWorker().diagnostics()
    if args.json:
        print(json.dumps(diag, indent=2))
        return 0
    hw, policy = diag["hardware_profile"], diag["load_policy"]
    print(
        f"backend {hw['backend']}  device {hw['device_name']}  VRAM {hw['total_vram_gb']}  RAM {hw['system_ram_gb']} GB"
    )
    print(f"policy  tier {policy['tier']}  {policy['placement']}  {policy['dtype']}  tiling={policy['vae_tiling']}")
    print(f"torch   {diag['runtime']['packages']['torch']}  diffusers {diag['runtime']['packages']['diffusers']}")
    return 0


def _progress_printer(enabled: bool):
    """A tqdm bar over overall percent, labelled with the stage; None when not on a terminal."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", file=sys.stderr, bar_format="{desc:<22} {bar} {n:.0f}% [{elapsed}<{remaining}]")

    def on_progress(event) -> None:
        label = event.stage if event.step is None else f"{event.stage} {event.step}/{event.total_steps}"
        if event.block is not None:  # a job in windows (SkyReels-V2's diffusion forcing): the one it is in
            label += f" block {event.block}/{event.total_blocks}"
        bar.set_description_str(label)
        bar.update(event.percent - bar.n)

    return on_progress, bar.close


def cmd_generate(args) -> int:
    from videogen.video.worker import GenerationWorker

    request = request_from_args(args)
    adapters = lora_config_from_args(args)  # --lora-config: the adapters --lora may name
    worker = GenerationWorker(
        models={args.family: args.model},
        policy_overrides=policy_overrides(args),
        loras={args.family: adapters} if adapters else None,
        recipes={args.family: recipes_from_args(args) or {}},  # --recipes: the recipes --recipe may name
    )
    on_progress, close = _progress_printer(sys.stderr.isatty())
    try:
        result = worker.generate(request, args.output, on_progress=on_progress)
    finally:
        close()
    payload = {
        "output": result.output_path,
        "frames": result.num_frames,
        "width": result.width,
        "height": result.height,
        "fps": result.fps,
        "bytes": result.bytes,
        "seed": result.params["seed"],
        "adjustments": [a.model_dump() for a in result.adjustments],
        "loras": result.params.get("loras", []),
        # what sampled it: the steps and guidance used, and the recipe's scheduler and shift when one was named
        "sampling": {
            k: result.params[k]
            for k in ("recipe", "num_inference_steps", "guidance_scale", "scheduler", "flow_shift")
            if k in result.params
        },
        "stages": {s.name: s.seconds for s in result.stages},
        "model": result.model,
    }
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        for adj in result.adjustments:
            print(f"adjusted {adj.field}: {adj.requested} -> {adj.used} ({adj.reason})", file=sys.stderr)
        print(
            f"wrote {result.output_path}: {result.num_frames} frames {result.width}x{result.height} @ {result.fps} fps"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError

    args = build_parser().parse_args(argv)
    if getattr(args, "handler", None):  # a client command (videogen.cli_client)
        from videogen.cli_client import run

        return run(args.handler, args)
    from videogen.cli_estimate import cmd_estimate

    handler = {"models": cmd_models, "runtime": cmd_runtime, "generate": cmd_generate, "estimate": cmd_estimate}[
        args.command
    ]
    try:
        return handler(args)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        print(f"videogen: error: {_flag(field)}: {err['msg']}", file=sys.stderr)
    except VideoGenError as exc:
        field = getattr(exc, "field", None)
        message = (
            f"{_flag(field)}{exc.message[len(field) :]}" if field and exc.message.startswith(field) else exc.message
        )
        print(f"videogen: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())
