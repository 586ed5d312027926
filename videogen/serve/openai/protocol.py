"""The OpenAI Videos API wire shapes, as the openai SDK (3.x) reads them.

A VideoGen job is shown as a ``Video``; errors on ``/v1`` routes answer
``{"error": {"message", "type", "param", "code"}}`` so the SDK raises its
typed exceptions (``BadRequestError``, ``NotFoundError``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, create_model
from pydantic_core import PydanticCustomError

from videogen.video.request import VideoRequest

OPENAI_PREFIX = "/v1"
# How often a client polling a running job should look again (the SDK's poll helper reads it).
POLL_AFTER_MS = 250
POLL_HEADER = "openai-poll-after-ms"

# VideoGen job status -> OpenAI video status (a cancelled job has failed, with code "cancelled").
STATUS = {
    "queued": "queued",
    "running": "in_progress",
    "succeeded": "completed",
    "failed": "failed",
    "cancelled": "failed",
}
# OpenAI's error "type" per HTTP status; the SDK picks its exception class from the status.
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None
    allowed: Any = Field(default=None, description="what ``param`` accepts (VideoGen's own; absent when unknown)")


class OpenAIErrorResponse(BaseModel):
    """Every error answer on ``/v1``: ``{"error": {"message", "type", "param", "code", "allowed"?}}``."""

    error: OpenAIErrorBody


class VideoError(BaseModel):
    code: str
    message: str


class Video(BaseModel):
    """OpenAI's ``Video`` object, plus VideoGen's own facts (extra keys the SDK keeps)."""

    id: str
    object: Literal["video"] = "video"
    model: str
    status: Literal["queued", "in_progress", "completed", "failed"]
    progress: int = 0
    created_at: int
    completed_at: int | None = None
    expires_at: int | None = Field(
        default=None,
        description="when the video and its record are deleted "
        "(completed_at + retention_days); null while it runs or when retention is off",
    )
    seconds: str
    size: str
    prompt: str | None = None
    remixed_from_video_id: str | None = None
    error: VideoError | None = None
    # VideoGen's own
    family: str
    task: str
    stage: str | None = None
    adjustments: list[dict[str, Any]] = Field(default_factory=list)


class VideoList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Video]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class VideoDeleted(BaseModel):
    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool = True


# -- request bodies: JSON (validated strictly) or multipart/form-data (its text read as these types) ------------
# VideoGen's own request fields a /v1 caller may send beside OpenAI's (typed and bounded as ``VideoRequest``'s).
EXTRA_FIELDS = (
    "num_frames",
    "fps",
    "seed",
    "negative_prompt",
    "guidance_scale",
    "num_inference_steps",
    "height",
    "width",
    "task",
    "step_cache",
    "latent_upscale",
    "with_audio",  # a family with sound (LTX-2): false leaves the track out of the MP4
    "ar_step",  # diffusion forcing (SkyReels-V2's DF models): the family's own knobs, refused by the others
    "causal_block_size",
    "overlap_history",
    "loras",  # LoRA adapters the model declares, by name and scale (JSON)
    "recipe",  # a sampling recipe the model declares, by name
    # the task media and their knobs (JSON; as multipart: strength, conditioning_scale and the mask as a file or
    # as mask[0], mask[1], ... files, an image sequence)
    "strength",
    "mask",
    "reference_images",
    "conditions",
    "conditioning_scale",
)
OPENAI_FIELDS = ("prompt", "model", "seconds", "size", "input_reference")
SIZE_PATTERN = r"^([0-9]+)[xX]([0-9]+)$"  # WIDTHxHEIGHT (the same in Python and in the schema's ECMA regex)
_IMAGE_URL = {"type": "string", "description": "a data: URL (or bare base64) of the image; remote URLs are not fetched"}
_REFERENCE_KEYS = {"image_url", "file_id"}
_FILE = {"type": "string", "format": "binary"}


def _seconds(value: Any) -> Any:
    if value is None or isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise PydanticCustomError("seconds_type", "must be a string or a number of seconds")


def _reference(value: Any) -> Any:
    """A data URL / base64 string, ``{"image_url": ...}`` (``file_id``: refused later, by name) or uploaded bytes."""
    if value is None or isinstance(value, (str, bytes)):  # bytes only from a multipart upload
        return value
    if isinstance(value, dict) and set(value) <= _REFERENCE_KEYS and all(isinstance(v, str) for v in value.values()):
        return value
    raise PydanticCustomError(
        "input_reference_type",
        "must be an image: a data URL or base64 string, "
        "{'image_url': 'data:image/...;base64,...'}, or an uploaded file",
    )


Seconds = Annotated[
    Any,
    PlainValidator(_seconds),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}],
            "default": None,
            "description": "the clip's length, e.g. '4' (moved to the nearest frame count the family makes)",
        }
    ),
]
InputReference = Annotated[
    Any,
    PlainValidator(_reference),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "a data: URL or base64"},
                {
                    "type": "object",
                    "properties": {
                        "image_url": _IMAGE_URL,
                        "file_id": {"type": "string", "description": "not supported here"},
                    },
                    "additionalProperties": False,
                },
                {"type": "null"},
            ],
            "default": None,
            "description": "the first frame: makes the job image-to-video",
        }
    ),
]


class _CreateVideoBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=4000)
    model: str | None = Field(
        default=None,
        description="a served family (its default model), a served model's name, or an operator's alias of either "
        "(default: the first served family)",
    )
    seconds: Seconds = None
    size: str | None = Field(
        default=None,
        pattern=SIZE_PATTERN,
        description="WIDTHxHEIGHT, e.g. '832x480' (moved to the nearest the family accepts)",
    )
    input_reference: InputReference = None


def _extra_field(name: str) -> tuple[Any, Any]:
    info = VideoRequest.model_fields[name]
    if name == "task":  # none: image-to-video with an input_reference, else text-to-video
        return info.annotation | None, Field(
            default=None, description="default: image-to-video when input_reference is given, else text-to-video"
        )
    return info.annotation, copy(info)


CreateVideoRequest = create_model(
    "CreateVideoRequest",
    __base__=_CreateVideoBase,
    __doc__="The body of ``POST /v1/videos`` (OpenAI's fields and "
    "VideoGen's own): JSON, or the same fields as multipart/form-data (``CreateVideoForm``).",
    **{name: _extra_field(name) for name in EXTRA_FIELDS},
)


class RemixVideoRequest(BaseModel):
    """The body of ``POST /v1/videos/{video_id}/remix`` (JSON or multipart/form-data)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=4000)


def _as_form(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A body schema as multipart/form-data: no nulls (a part is left out instead), a nested object as
    ``name[key]`` parts (as the openai SDK sends it), ``input_reference`` as a file (or ``[image_url]``), ``mask``
    as a file or ``mask[0]``, ``mask[1]``, ... files (an image sequence)."""
    props: dict[str, Any] = {}
    patterns: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        options = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
        one = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
        one.update(options[0] if len(options) == 1 else {"anyOf": options})
        if name == "input_reference":
            props[name] = {
                "type": "string",
                "format": "binary",
                "description": "the first frame, an image file "
                "(makes the job image-to-video); or send input_reference[image_url]",
            }
            props[f"{name}[image_url]"] = _IMAGE_URL
        elif name == "mask":
            props[name] = {**_FILE, "description": "video-inpaint's mask: a clip or one image file"}
            patterns[r"^mask\[[0-9]+\]$"] = {**_FILE, "description": "or an image sequence: mask[0], mask[1], ..."}
        elif one.get("type") == "array" and "$ref" in one.get("items", {}):
            # A list of objects as the openai SDK sends it: name[][key] parts, one object after another (or
            # name[0][key] by index).
            nested = defs[one["items"]["$ref"].rsplit("/", 1)[-1]]
            for key, sub in nested["properties"].items():
                patterns[rf"^{name}\[[0-9]*\]\[{key}\]$"] = _as_form({"properties": {key: sub}}, defs)["properties"][
                    key
                ]
        elif "$ref" in one:
            nested = defs[one["$ref"].rsplit("/", 1)[-1]]
            props.update(
                {
                    f"{name}[{key}]": _as_form({"properties": {key: sub}}, defs)["properties"][key]
                    for key, sub in nested["properties"].items()
                }
            )
        else:
            props[name] = one
    return {
        "title": f"{schema.get('title', '')}Form",
        "type": "object",
        "properties": props,
        **({"patternProperties": patterns} if patterns else {}),
        "required": schema.get("required", []),
        "additionalProperties": False,
    }


def body_schemas(ref_prefix: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The OpenAPI components of the /v1 bodies (the models, their form versions, what they refer to) and
    the ``requestBody`` of create and of remix, keyed by operation."""
    return request_body_schemas({"create": CreateVideoRequest, "remix": RemixVideoRequest}, ref_prefix)


def request_body_schemas(
    models: dict[str, type[BaseModel]],
    ref_prefix: str,
    adjust_form: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """For each operation's body model: its JSON schema and its multipart form version (``_as_form``, then
    ``adjust_form`` for what a form carries otherwise, e.g. an uploaded file) as components, and the operation's
    ``requestBody`` taking either."""
    components: dict[str, dict[str, Any]] = {}
    bodies: dict[str, Any] = {}
    for operation, model in models.items():
        schema = model.model_json_schema(ref_template=ref_prefix + "{model}")
        defs = schema.pop("$defs", {})
        form = _as_form(schema, defs)
        if adjust_form is not None:
            adjust_form(form)
        components.update(defs)
        components[model.__name__] = schema
        components[f"{model.__name__}Form"] = form
        bodies[operation] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": ref_prefix + model.__name__}},
                "multipart/form-data": {"schema": {"$ref": ref_prefix + model.__name__ + "Form"}},
            },
        }
    return components, bodies


def seconds_text(num_frames: int, fps: int) -> str:
    """A clip's length as OpenAI writes it (a string): "4", or "1.12" when it is not whole."""
    seconds = round(num_frames / max(fps, 1), 2)
    return f"{seconds:g}"


def video_from_job(job: dict[str, Any]) -> Video:
    """The ``Video`` of a job (``Job.wire()``)."""
    request, params = job.get("request") or {}, job.get("params") or {}
    client = request.get("client") or {}
    result = job.get("result") or {}
    frames = result.get("frames") or params.get("num_frames") or 0
    fps = result.get("fps") or params.get("fps") or 1
    width, height = result.get("width") or params.get("width"), result.get("height") or params.get("height")
    progress = job.get("progress") or {}
    status = STATUS[job["status"]]
    error = job.get("error")
    ended = job["status"] in ("succeeded", "failed", "cancelled")
    return Video(
        id=job["id"],
        model=client.get("model") or job["family"],
        status=status,
        progress=100 if status == "completed" else int(progress.get("percent") or 0),
        created_at=int(job["created_at"]),
        completed_at=int(job["finished_at"]) if ended and job.get("finished_at") else None,
        expires_at=int(job["expires_at"]) if job.get("expires_at") is not None else None,
        seconds=seconds_text(frames, fps),
        size=f"{width}x{height}" if width and height else "",
        prompt=request.get("prompt"),
        remixed_from_video_id=client.get("remixed_from_video_id"),
        error=VideoError(code=error["code"], message=error["message"]) if error and status == "failed" else None,
        family=job["family"],
        task=job["task"],
        stage=progress.get("stage"),
        adjustments=job.get("adjustments") or [],
    )


def openai_status(status: int) -> int:
    """VideoGen answers a refused value with 422; OpenAI (and so the SDK's BadRequestError) with 400."""
    return 400 if status == 422 else status


def openai_error(err: dict[str, Any], status: int) -> dict[str, Any]:
    """A VideoGen error (``{code, message, field?, allowed?}``, ``VideoGenError.to_dict()``) as OpenAI's body."""
    message = err.get("message") or "error"
    if err.get("field") and not message.startswith(err["field"]):
        message = f"{err['field']}: {message}"
    out = {
        "message": message,
        "type": _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error"),
        "param": err.get("field"),
        "code": err.get("code"),
    }
    if err.get("allowed") is not None:
        out["allowed"] = err["allowed"]
    return {"error": out}
