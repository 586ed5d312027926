"""``/v1/videos`` onto VideoGen's jobs: one implementation (``JobService``), a second wire shape.

``model`` names a served family (its default model), a served model by name, or
an operator's alias of either; ``seconds`` and
``size`` become frames (at the family's fps) and a resolution, moved to the
nearest the family accepts and listed as adjustments; ``input_reference``
makes the job image-to-video; VideoGen's own request fields ride along as
extra fields.
"""

from __future__ import annotations

import asyncio
import base64
import re
from typing import TYPE_CHECKING, Any, Literal

from videogen.errors import InvalidRequestError, JobStateError, UnknownFamilyError
from videogen.serve.openai.protocol import (  # EXTRA_FIELDS: VideoGen's own fields a /v1 caller may send
    EXTRA_FIELDS,
    OPENAI_FIELDS,
    SIZE_PATTERN,
    Video,
    VideoDeleted,
    VideoList,
    seconds_text,
    video_from_job,
)
from videogen.serve.store.housekeeping import delete_jobs
from videogen.serve.store.job_pages import page_after
from videogen.video import model_limits
from videogen.video.outputs import VARIANTS as MEDIA_VARIANTS
from videogen.video.registry import get_spec
from videogen.video.request import Adjustment
from videogen.video.spec import IMAGE_TO_VIDEO, TEXT_TO_VIDEO, VIDEO_TO_VIDEO
from videogen.video.video_container import ContainerError, sniff

if TYPE_CHECKING:
    from videogen.serve.artifacts.base import OpenedArtifact
    from videogen.serve.config import ServedModel
    from videogen.serve.service.auth import Principal
    from videogen.serve.service.videogen_service import VideoGenService
    from videogen.video.model_meta import ModelMeta

VARIANTS = tuple(MEDIA_VARIANTS)  # the files a finished job has (``videogen.video.outputs``), in order
# A running job asked to be deleted gets this long to stop before its files go.
DELETE_WAIT_S = 10.0


def _seconds(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= 600:
        raise InvalidRequestError(
            "seconds", f"{value!r} is not a clip length in seconds", allowed="a number in (0, 600]"
        )
    return seconds


def _whole(field: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidRequestError(field, f"{value!r} is not a whole number", allowed="an integer") from None


def _size(value: Any) -> tuple[int, int]:
    # ASCII digits only (str.isdigit() also takes '²', which int() refuses); the schema's pattern is this one.
    match = re.fullmatch(SIZE_PATTERN, str(value))
    if match is None:
        raise InvalidRequestError("size", f"{value!r} is not WIDTHxHEIGHT", allowed="e.g. '832x480'")
    return int(match[1]), int(match[2])


def image_b64(reference: Any) -> str:
    """``input_reference`` as the request's base64 image: uploaded bytes, ``{"image_url": data URL}`` or a string."""
    if isinstance(reference, (bytes, bytearray)):
        return base64.b64encode(reference).decode("ascii")
    if isinstance(reference, dict):
        if reference.get("file_id"):
            raise InvalidRequestError(
                "input_reference",
                "file_id references are not supported here",
                allowed="an image upload or {'image_url': 'data:image/...;base64,...'}",
            )
        reference = reference.get("image_url")
    if isinstance(reference, str) and reference:
        if reference.startswith(("http://", "https://")):
            raise InvalidRequestError(
                "input_reference", "remote URLs are not fetched", allowed="a data: URL or an upload"
            )
        return reference
    raise InvalidRequestError("input_reference", "is empty", allowed="an image file")


def _is_video(reference: Any, encoded: str) -> bool:
    """An uploaded ``input_reference`` that is a video container (told from its bytes), or a video data URL."""
    if isinstance(reference, (bytes, bytearray)):
        try:
            sniff(bytes(reference[:64]))
            return True
        except ContainerError:
            return False
    return encoded.startswith("data:video/")


class OpenAIVideos:
    def __init__(self, service: VideoGenService):
        self.service = service
        self.settings = service.settings
        self.jobs = service.jobs

    # -- model names ----------------------------------------------------------------------
    def model_names(self) -> list[str]:
        """Every /v1 ``model`` accepted: the operator's aliases, the served families, the named models."""
        return list(dict.fromkeys([*self.settings.model_aliases, *self.settings.served, *self.settings.models]))

    def served_model(self, model: str | None) -> ServedModel:
        """The served model a /v1 ``model`` names: a family id is its default model, a name that model, an
        alias what it stands for; none: the first served family's default."""
        settings = self.settings
        if not model:
            return settings.default_model(settings.served[0])
        if not isinstance(model, str):
            raise InvalidRequestError("model", f"{model!r} is not a model name", allowed=self.model_names())
        model = settings.model_aliases.get(model, model)
        if model in settings.served_models:
            return settings.served_models[model]
        if model in settings.served:  # a family served only by named models
            return settings.default_model(model)
        names = self.model_names()
        raise UnknownFamilyError("model", f"{model!r} is not served here; models: {', '.join(names)}", allowed=names)

    # -- create ------------------------------------------------------------------------------
    def _request(self, fields: dict[str, Any], served: ServedModel) -> tuple[dict[str, Any], dict[str, Any], ModelMeta]:
        """The ``VideoRequest`` fields of a /v1 body, what to keep of OpenAI's own, and the served model's meta."""
        family = served.family
        unknown = sorted(set(fields) - set(EXTRA_FIELDS) - set(OPENAI_FIELDS))
        if unknown:
            raise InvalidRequestError(unknown[0], "is not a known field", allowed=[*OPENAI_FIELDS, *EXTRA_FIELDS])
        body: dict[str, Any] = {k: fields[k] for k in EXTRA_FIELDS if fields.get(k) not in (None, "")}
        body.update(family=family, model=served.name, prompt=fields.get("prompt") or "")
        if fields.get("input_reference") is not None:
            reference = image_b64(fields["input_reference"])
            if _is_video(fields["input_reference"], reference):  # a clip to restyle: video-to-video
                body["video"] = reference
                body.setdefault("task", VIDEO_TO_VIDEO)
            else:
                body["image"] = reference
                body.setdefault("task", IMAGE_TO_VIDEO)
        body.setdefault("task", TEXT_TO_VIDEO)
        spec = get_spec(family)
        if not isinstance(body["task"], str):
            raise InvalidRequestError("task", f"{body['task']!r} is not a task name", allowed=spec.tasks)
        spec.check_task(body["task"])  # before the task names a model below: a refusal, never a KeyError
        meta = self.service.status.model_meta(family, body["task"], served.name)
        defaults = {**spec.defaults.model_dump(), **meta.request_defaults}
        asked = {k: fields.get(k) for k in ("seconds", "size") if fields.get(k) not in (None, "")}
        if "size" in asked and "width" not in body and "height" not in body:
            width, height = _size(asked["size"])
            low = model_limits.min_size(spec, meta)
            body["width"], body["height"] = (min(max(v, low), spec.max_size) for v in (width, height))
        if "seconds" in asked and "num_frames" not in body:
            fps = _whole("fps", body.get("fps") or defaults["fps"])
            rule = model_limits.frame_rule(spec, body["task"], meta)  # a FramePack model's are far longer
            body["num_frames"] = min(max(round(_seconds(asked["seconds"]) * fps), rule.min_frames), rule.max_frames)
        return body, asked, meta

    @staticmethod
    def _mapping_adjustments(family: str, asked: dict[str, Any], params: dict[str, Any]) -> list[Adjustment]:
        out = []
        if "seconds" in asked:
            used = seconds_text(params["expected_frames"], params["fps"])
            if used != str(asked["seconds"]):
                out.append(
                    Adjustment(
                        field="seconds",
                        requested=str(asked["seconds"]),
                        used=used,
                        reason=f"{family} makes {params['expected_frames']} frames at {params['fps']} fps",
                    )
                )
        if "size" in asked:
            used = f"{params['width']}x{params['height']}"
            if used != str(asked["size"]).lower():
                out.append(
                    Adjustment(
                        field="size",
                        requested=str(asked["size"]),
                        used=used,
                        reason=f"{family}'s nearest valid resolution",
                    )
                )
        return out

    async def create(self, fields: dict[str, Any], who: Principal, *, client: dict[str, Any] | None = None) -> Video:
        model = fields.get("model") or None
        served = self.served_model(model)
        family = served.family
        body, asked, meta = await asyncio.to_thread(self._request, fields, served)
        request = self.jobs.parse(body)
        # Resolved once here (the model's meta looked up once): submit admits these very inputs.
        try:
            prepared = await asyncio.to_thread(self.jobs.validate, request, meta)
        except InvalidRequestError as exc:
            if exc.field == "image":  # the /v1 caller sent it as input_reference: name the field it knows
                exc.field = "input_reference"
            raise
        adjustments = self._mapping_adjustments(family, asked, prepared.params)
        keep = {"api": "openai", "model": model or served.name, **asked, **(client or {})}
        job = await self.jobs.submit(request, who, adjustments=adjustments, client=keep, prepared=prepared)
        return video_from_job(job.wire())

    async def remix(self, video_id: str, prompt: str, who: Principal) -> Video:
        """The same settings (seed included) as ``video_id``, a new prompt."""
        rec = await asyncio.to_thread(self.jobs.jobs.get, video_id, who.owner_filter)
        if rec.task != TEXT_TO_VIDEO:
            raise JobStateError(
                f"video {video_id} is {rec.task}; its input media are not kept, so it cannot be remixed"
            )
        params = rec.params or {}
        fields = {
            k: params[k]
            for k in ("num_frames", "height", "width", "num_inference_steps", "guidance_scale", "seed", "fps")
            if params.get(k) is not None
        }
        request = rec.request or {}
        fields.update({k: request[k] for k in ("negative_prompt", "step_cache") if request.get(k) is not None})
        client = request.get("client") or {}
        # On the model the original ran on (as the client named it, else its stored name).
        model = client.get("model") or self.settings.model_of(rec.family, rec.model_name)
        fields.update(prompt=prompt, model=model, task=rec.task)
        return await self.create(fields, who, client={"remixed_from_video_id": video_id})

    # -- read ----------------------------------------------------------------------------------
    async def retrieve(self, video_id: str, who: Principal) -> Video:
        return video_from_job((await self.jobs.get(video_id, who)).wire())

    async def list(self, after: str | None, limit: int, order: Literal["asc", "desc"], who: Principal) -> VideoList:
        records, more = await asyncio.to_thread(
            page_after, self.service.store.db, after, limit, order, who.owner_filter
        )
        data = [video_from_job(self.jobs.job(r).wire()) for r in records]
        return VideoList(
            data=data, first_id=data[0].id if data else None, last_id=data[-1].id if data else None, has_more=more
        )

    async def content(self, video_id: str, variant: str, who: Principal) -> OpenedArtifact:
        """The video (or a picture) opened in the artifact store, for ``downloads.download_response``."""
        if variant not in VARIANTS:
            raise InvalidRequestError("variant", f"{variant!r} is not a variant", allowed=list(VARIANTS))
        return await self.jobs.open_output(video_id, variant, who)

    # -- delete -----------------------------------------------------------------------------------
    async def delete(self, video_id: str, who: Principal) -> VideoDeleted:
        """Cancel it if it runs, then remove the job and its files; the id is unknown afterwards."""
        job = await self.jobs.get(video_id, who)  # 404 for an unknown id (or another owner's)
        if not job.status.terminal:
            await self.jobs.cancel(video_id, who)
            await self.jobs.wait(video_id, timeout_s=DELETE_WAIT_S)
        await asyncio.to_thread(delete_jobs, self.service.store, [video_id])
        self.jobs.feed.notify(video_id)
        return VideoDeleted(id=video_id)
