"""``videogen submit / status / wait / download --server URL``: the CLI as a client of a served VideoGen.

A laptop drives a remote cluster over HTTP with ``httpx``: ``submit`` queues a
job (``--wait`` follows it), ``wait`` shows a progress bar fed by the job's
Server-Sent Events (stage, step i/N, ETA; it reconnects from the last event
id), ``download`` fetches the MP4 or one of its pictures. The API key comes
from ``--api-key`` or ``$VIDEOGEN_API_KEY``; the server from ``--server`` or
``$VIDEOGEN_SERVER``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from videogen.cli_loras import add_lora_flags, loras_from_args
from videogen.cli_recipes import add_recipe_flags
from videogen.cli_request import REQUEST_VALUES, add_media_flags, media_from_args
from videogen.video.outputs import VARIANTS as MEDIA_VARIANTS

SERVER_ENV = "VIDEOGEN_SERVER"
API_KEY_ENV = "VIDEOGEN_API_KEY"
EXIT_FAILED, EXIT_BAD_INPUT = 1, 2
TERMINAL = ("succeeded", "failed", "cancelled")
VARIANTS = tuple(MEDIA_VARIANTS)


class ClientError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_FAILED):
        super().__init__(message)
        self.exit_code = exit_code


def add_client_parsers(sub) -> None:
    """The client subcommands, on ``videogen``'s subparsers."""

    def common(p):
        p.add_argument("--server", default=os.environ.get(SERVER_ENV), help=f"e.g. http://head:8000 (or ${SERVER_ENV})")
        p.add_argument("--api-key", default=os.environ.get(API_KEY_ENV), help=f"Bearer key (or ${API_KEY_ENV})")
        p.add_argument("--json", action="store_true", help="print the job as JSON")

    submit = sub.add_parser("submit", help="queue a job on a VideoGen server")
    common(submit)
    submit.add_argument("--family", required=True)
    submit.add_argument(
        "--model-name",
        dest="model_name",
        help="a model the server serves for this family, by its configured name (default: the family's default)",
    )
    submit.add_argument(
        "--task",
        default=None,
        help="default: video-to-video with --video, image-to-video with --image, else text-to-video",
    )
    submit.add_argument("--prompt", required=True)
    submit.add_argument("--negative-prompt")
    submit.add_argument("--image", help="first frame for image-to-video / first-last-frame (PNG/JPEG/WebP path)")
    submit.add_argument("--last-image", dest="last_image", help="last frame for first-last-frame (image path)")
    submit.add_argument("--video", help="input video for video-to-video (MP4/WebM/MOV path)")
    submit.add_argument("--strength", type=float, help="video-to-video: 0 keeps the input, 1 ignores it")
    add_media_flags(submit)
    for flag, dest, kind in (
        ("--frames", "num_frames", int),
        ("--height", "height", int),
        ("--width", "width", int),
        ("--steps", "num_inference_steps", int),
        ("--guidance", "guidance_scale", float),
        ("--guidance-2", "guidance_scale_2", float),
        ("--seed", "seed", int),
        ("--fps", "fps", int),
    ):
        submit.add_argument(flag, dest=dest, type=kind)
    add_lora_flags(submit, with_config=False)  # the server declares its adapters
    add_recipe_flags(submit, with_config=False)  # and its recipes
    submit.add_argument("--wait", action="store_true", help="follow the job to its end (progress bar)")
    submit.add_argument("-o", "--output", help="with --wait: write the MP4 here")
    submit.set_defaults(handler=cmd_submit)

    status = sub.add_parser("status", help="a job's status and progress")
    common(status)
    status.add_argument("job_id")
    status.set_defaults(handler=cmd_status)

    wait = sub.add_parser("wait", help="follow a job to its end with a progress bar (SSE)")
    common(wait)
    wait.add_argument("job_id")
    wait.add_argument("-o", "--output", help="write the MP4 here once it has succeeded")
    wait.set_defaults(handler=cmd_wait)

    download = sub.add_parser("download", help="download a finished job's MP4 (or a picture of it)")
    common(download)
    download.add_argument("job_id")
    download.add_argument("-o", "--output", required=True)
    download.add_argument("--variant", default="video", choices=VARIANTS)
    download.set_defaults(handler=cmd_download)


# -- HTTP --------------------------------------------------------------------------------------
def _client(args):
    import httpx

    if not args.server:
        raise ClientError(f"--server (or ${SERVER_ENV}) is required", EXIT_BAD_INPUT)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    return httpx.Client(base_url=args.server.rstrip("/"), headers=headers, timeout=httpx.Timeout(60.0, read=None))


def _check(response) -> Any:
    if response.status_code < 400:
        return response
    try:
        error = response.json()["error"]
        message = error.get("message") or str(error)
    except Exception:  # noqa: BLE001 - not VideoGen's error body
        message = response.text[:500]
    exit_code = EXIT_BAD_INPUT if response.status_code in (400, 404, 413, 422) else EXIT_FAILED
    raise ClientError(f"{response.status_code}: {message}", exit_code)


def _print_job(job: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(job, indent=2))
        return
    progress = job.get("progress") or {}
    step = f" step {progress['step']}/{progress['total_steps']}" if progress.get("step") else ""
    if progress.get("block"):  # a job in windows (SkyReels-V2's diffusion forcing): the one it is in
        step += f" block {progress['block']}/{progress['total_blocks']}"
    print(
        f"{job['id']} {job['status']} {job['family']}/{job['task']} stage={progress.get('stage')}{step} "
        f"{progress.get('percent', 0):.0f}%"
    )
    for adj in job.get("adjustments") or []:
        print(f"  adjusted {adj['field']}: {adj['requested']} -> {adj['used']} ({adj['reason']})", file=sys.stderr)
    if job.get("error"):
        print(f"  error: {job['error'].get('message')}", file=sys.stderr)


def sse_events(client, job_id: str):
    """The job's states from its SSE stream; reconnects from the last event id until the job ends."""
    last_id: str | None = None
    while True:
        headers = {"Last-Event-ID": last_id} if last_id else {}
        with client.stream("GET", f"/api/video/jobs/{job_id}/events", headers=headers) as response:
            _check(response)
            event: dict[str, str] = {}
            for line in response.iter_lines():
                if line.startswith(":"):
                    continue
                if not line:
                    if "data" in event:
                        job = json.loads(event["data"])
                        last_id = event.get("id", last_id)
                        yield job
                        if job["status"] in TERMINAL:
                            return
                    event = {}
                    continue
                key, _, value = line.partition(":")
                event[key] = value.lstrip(" ")
        time.sleep(0.5)  # the stream ended before the job did (an ingress restart): resume after last_id


def follow(client, job_id: str, out=None) -> dict[str, Any]:
    """A tqdm bar over the job's percent, described by stage, step i/N and ETA; the ended job."""
    from tqdm import tqdm

    job: dict[str, Any] = {}
    with tqdm(
        total=100, unit="%", file=out or sys.stderr, bar_format="{l_bar}{bar}| {n:.0f}% [{elapsed}{postfix}]"
    ) as bar:
        for job in sse_events(client, job_id):
            p = job.get("progress") or {}
            text = p.get("stage") or job["status"]
            if p.get("step") and p.get("total_steps"):
                text += f" {p['step']}/{p['total_steps']}"
            if p.get("block"):
                text += f" block {p['block']}/{p['total_blocks']}"
            bar.set_description_str(text, refresh=False)
            if p.get("eta_s") is not None and job["status"] not in TERMINAL:
                bar.set_postfix_str(f"ETA {p['eta_s']:.1f}s", refresh=False)
            bar.n = 100.0 if job["status"] == "succeeded" else float(p.get("percent") or 0.0)
            bar.refresh()
    return job


def _download(client, job_id: str, output: str, variant: str = "video") -> None:
    params = {} if variant == "video" else {"variant": variant}
    with client.stream("GET", f"/api/video/jobs/{job_id}/video", params=params) as response:
        _check(response)
        with open(output, "wb") as fh:
            for chunk in response.iter_bytes():
                fh.write(chunk)
    print(f"wrote {output}", file=sys.stderr)


def _ended(client, args, job: dict[str, Any]) -> int:
    _print_job(job, args.json)
    if job["status"] != "succeeded":
        return EXIT_FAILED
    if getattr(args, "output", None):
        _download(client, job["id"], args.output)
    return 0


# -- commands ------------------------------------------------------------------------------------
def cmd_submit(args) -> int:
    body: dict[str, Any] = {"family": args.family, "prompt": args.prompt}
    if args.model_name:
        body["model"] = args.model_name
    for name in ("negative_prompt", *REQUEST_VALUES):
        if getattr(args, name) is not None:
            body[name] = getattr(args, name)
    body.update(media_from_args(args))  # local files, sent inline (the server never reads a path)
    if args.loras:
        body["loras"] = loras_from_args(args)
    default_task = "video-to-video" if args.video else "image-to-video" if args.image else "text-to-video"
    body["task"] = args.task or default_task
    with _client(args) as client:
        job = _check(client.post("/api/video/jobs", json=body)).json()
        if not args.wait:
            _print_job(job, args.json)
            return 0
        return _ended(client, args, follow(client, job["id"]))


def cmd_status(args) -> int:
    with _client(args) as client:
        _print_job(_check(client.get(f"/api/video/jobs/{args.job_id}")).json(), args.json)
    return 0


def cmd_wait(args) -> int:
    with _client(args) as client:
        return _ended(client, args, follow(client, args.job_id))


def cmd_download(args) -> int:
    with _client(args) as client:
        _download(client, args.job_id, args.output, args.variant)
    return 0


def run(handler, args) -> int:
    """Run a client command: a refused or failed call is one line on stderr and an exit code."""
    try:
        return handler(args)
    except ClientError as exc:
        print(f"videogen: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        import httpx

        if not isinstance(exc, (httpx.HTTPError, OSError)):
            raise
        print(f"videogen: error: cannot reach {args.server}: {exc}", file=sys.stderr)
        return EXIT_FAILED
