"""A video-inpaint mask sent as an image sequence: one image per output frame, conformed to the job like a clip.

Settled through the Wan adapter (the family that takes masks) without a pipeline: the frames the job runs with,
the adjustments it reports, and the refusals that name ``mask`` or ``mask[i]``. The forms it arrives in: a JSON
list (``/api``, ``/v1``), ``mask[0]``, ``mask[1]``, ... multipart parts (``/v1``), several paths or a directory
on the command line. The tiny end-to-end run is in tests/families/test_vace.py.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json

import numpy as np
import pytest
import testkit
from pydantic import ValidationError
from starlette.requests import Request
from testkit import blank_png_b64

from videogen.cli_request import add_request_flags, request_from_args
from videogen.errors import InvalidRequestError
from videogen.video.families import get_adapter
from videogen.video.request import MAX_MASK_FRAMES, MAX_VIDEO_BYTES, VideoRequest
from videogen.video.tiny.cache import tiny_meta
from videogen.video.video_input import DEFAULT_VIDEO_LIMITS
from videogen.video.video_to_video import clip_b64

INPAINT = "video-inpaint"
CLIP = clip_b64(np.full((9, 32, 32, 3), 90, np.uint8), 16)  # 9 frames at Wan's 16 fps: the job's 9 frames


def png_bytes(colour, width: int = 32, height: int = 32, left_white: bool = False) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (width, height), colour)
    if left_white:
        image.paste((255, 255, 255), (0, 0, width // 2, height))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def png(colour, width: int = 32, height: int = 32, left_white: bool = False) -> str:
    return base64.b64encode(png_bytes(colour, width, height, left_white)).decode("ascii")


def settle(mask, **fields):
    request = VideoRequest(family="wan", task=INPAINT, prompt="a fox", video=CLIP, mask=mask, **fields)
    return get_adapter("wan").resolve_params(request, tiny_meta("wan", INPAINT))


def refused(mask) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as err:
        settle(mask)
    return err.value


def moved(prepared) -> dict:
    return {a.field: (a.requested, a.used) for a in prepared.adjustments if a.field.startswith("mask")}


def test_a_sequence_settles_to_the_jobs_frames_like_a_clip():
    white, black = (255, 255, 255), (0, 0, 0)
    # three 64x48 images (white, black, a white left half) for a 9-frame 32x32 job: the last held, scaled and
    # centre-cropped like a clip's frames (64x48 -> 43x32, columns 5..36 kept: the white half ends near 16)
    prepared = settle([png(white, 64, 48), png(black, 64, 48), png(black, 64, 48, left_white=True)])
    mask = prepared.media.mask
    assert len(mask) == prepared.params["num_frames"] == 9
    pixels = np.stack([np.asarray(frame) for frame in mask])
    assert pixels.shape == (9, 32, 32, 3) and set(np.unique(pixels)) <= {0, 255}  # binarised
    assert (pixels[0] == 255).all() and (pixels[1] == 0).all()
    assert (pixels[2:, :, :15] == 255).all() and (pixels[2:, :, 18:] == 0).all()  # held to the job's end
    assert moved(prepared) == {"mask.frames": (3, 9), "mask.size": ("64x48", "32x32")}
    reasons = {a.field: a.reason for a in prepared.adjustments}
    assert "last image is repeated 6 times" in reasons["mask.frames"]
    # longer than the job: its first 9 images (white, then black); at the job's size: no size change
    longer = settle([png(white)] * 9 + [png(black)] * 3)
    assert moved(longer) == {"mask.frames": (12, 9)} and "only its first 9" in longer.adjustments[-1].reason
    assert all((np.asarray(frame) == 255).all() for frame in longer.media.mask)
    exact = settle([png(black)] * 4 + [png(white)] * 5)
    assert moved(exact) == {}
    assert [int(np.asarray(frame).max()) for frame in exact.media.mask] == [0] * 4 + [255] * 5


def test_a_sequence_follows_the_clip_when_no_frame_count_is_asked():
    """video-inpaint without num_frames runs the video's length (a 17-frame clip): the sequence is held to it."""
    long_clip = clip_b64(np.full((17, 32, 32, 3), 90, np.uint8), 16)
    request = VideoRequest(family="wan", task=INPAINT, prompt="a fox", video=long_clip, mask=[png((0, 0, 0))] * 2)
    prepared = get_adapter("wan").resolve_params(request, tiny_meta("wan", INPAINT))
    assert prepared.params["num_frames"] == len(prepared.media.mask) == 17
    assert moved(prepared) == {"mask.frames": (2, 17)}


def test_bad_items_are_refused_naming_their_index():
    good = png((255, 255, 255))
    mp4 = CLIP
    gif = base64.b64encode(b"GIF89a" + b"\0" * 32).decode()
    noise = testkit.png_bytes(32)  # random pixels: cut in half, its header is whole and its data is not
    truncated = base64.b64encode(noise[: len(noise) // 2]).decode()
    cases = {
        "not base64": ("%%% not base64", "not valid base64"),
        "a clip in the list": (mp4, "is not a PNG, JPEG or WebP image"),
        "a GIF": (gif, "is not a PNG, JPEG or WebP image"),
        "a truncated PNG": (truncated, "could not be decoded"),
        "another size": (png((0, 0, 0), 48, 32), "but mask[0] is 32x32"),
        "a data URL not in base64": ("data:image/png,abc", "base64"),
    }
    for name, (bad, words) in cases.items():
        err = refused([good, good, bad])
        assert err.field == "mask[2]" and words in err.message, (name, err.message)
        assert err.to_dict()["field"] == "mask[2]"


def test_hostile_items_are_refused_before_their_pixels_are_decoded():
    cap = DEFAULT_VIDEO_LIMITS.max_pixels_per_frame  # a mask frame is a video frame
    err = refused([png((0, 0, 0)), blank_png_b64(1921, 1089)])
    assert err.field == "mask[1]" and f"at most {cap} pixels" in err.message and "1921x1089" in err.message
    err = refused([blank_png_b64(4096, 4096)])  # a 16-megapixel bomb of a few KB: refused on its header
    assert err.field == "mask[0]" and err.allowed == f"<= {cap} pixels"
    # past the job's end too: every image of the sequence is checked, not only those used
    assert refused([png((0, 0, 0))] * 12 + [blank_png_b64(2000, 2000)]).field == "mask[12]"


def test_counts_and_sizes_are_bounded_before_anything_is_decoded():
    def invalid(mask) -> dict:
        with pytest.raises(ValidationError) as err:
            VideoRequest(family="wan", task=INPAINT, prompt="a fox", video=CLIP, mask=mask)
        (error,) = err.value.errors()
        assert error["loc"] == ("mask",)
        return error

    assert f"1..{MAX_MASK_FRAMES} images" in invalid([png((0, 0, 0))] * (MAX_MASK_FRAMES + 1))["msg"]
    assert "this one has 0" in invalid([])["msg"]
    assert invalid([png((0, 0, 0)), 7])["msg"].startswith("mask[1] must be a base64 string")
    assert invalid({"0": png((0, 0, 0))})["type"] == "mask_type"
    big = "A" * (MAX_VIDEO_BYTES // 2 * 4 // 3)  # two of them: more than a mask clip may be, together
    assert f"at most {MAX_VIDEO_BYTES} bytes together" in invalid([big, big, big])["msg"]
    assert "at most" in invalid(["A" * (13 * 1024 * 1024 * 4 // 3)])["msg"]  # one item over an image's bytes
    # JSON, read strictly as /api and /v1 read it: a list stays a list; uploaded bytes become base64
    body = {"family": "wan", "task": INPAINT, "prompt": "a fox", "video": CLIP, "mask": [png((0, 0, 0))] * 2}
    assert VideoRequest.model_validate_json(json.dumps(body), strict=True).mask == body["mask"]
    raw = png_bytes((0, 0, 0))
    assert VideoRequest(**{**body, "mask": [raw, raw]}).mask == [base64.b64encode(raw).decode()] * 2
    schema = VideoRequest.model_json_schema()["properties"]["mask"]
    assert [option.get("type") for option in schema["anyOf"]] == ["string", "array", "null"]
    assert schema["anyOf"][1]["maxItems"] == MAX_MASK_FRAMES


def _form_request(parts: list[tuple[str, bytes, str | None]]) -> Request:
    """A multipart/form-data request as /v1 receives it (file parts carry a filename)."""
    boundary = "vgboundary"
    chunks = []
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        kind = "\r\nContent-Type: image/png" if filename else ""
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}{kind}\r\n\r\n".encode() + value + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", f"multipart/form-data; boundary={boundary}".encode())]
    return Request({"type": "http", "method": "POST", "path": "/v1/videos", "headers": headers}, receive)


def test_v1_multipart_takes_the_sequence_as_indexed_file_parts():
    from videogen.serve.openai.protocol import CreateVideoRequest
    from videogen.serve.openai.routes import read_body

    frames = [png_bytes((0, 0, 0)), png_bytes((255, 255, 255))]
    parts = [("prompt", b"a fox", None), ("task", INPAINT.encode(), None)]
    parts += [("mask[1]", frames[1], "m1.png"), ("mask[0]", frames[0], "m0.png")]  # any order: by index
    fields = asyncio.run(read_body(_form_request(parts), CreateVideoRequest))
    assert fields["mask"] == [base64.b64encode(f).decode() for f in frames]
    one = _form_request([("prompt", b"x", None), ("mask", frames[0], "m.png")])
    assert asyncio.run(read_body(one, CreateVideoRequest))["mask"] == base64.b64encode(frames[0]).decode()
    gap = _form_request([("prompt", b"x", None), ("mask[0]", frames[0], "a.png"), ("mask[2]", frames[1], "b.png")])
    with pytest.raises(InvalidRequestError) as err:  # a gap in the indices is not a sequence
        asyncio.run(read_body(gap, CreateVideoRequest))
    assert err.value.field == "mask"


def test_cli_reads_several_paths_or_a_directory_in_name_order(tmp_path):
    parser = argparse.ArgumentParser()
    add_request_flags(parser)
    argv = ["--family", "wan", "--task", INPAINT, "--prompt", "x", "--video"]
    (tmp_path / "in.mp4").write_bytes(base64.b64decode(CLIP))
    frames = tmp_path / "frames"
    frames.mkdir()
    for name, colour in (("f10.png", 30), ("f02.png", 20), ("f01.png", 10)):
        (frames / name).write_bytes(png_bytes((colour, 0, 0)))
    (frames / "notes.txt").write_text("not an image")
    video = [*argv, str(tmp_path / "in.mp4"), "--mask"]
    by_dir = request_from_args(parser.parse_args([*video, str(frames)]))
    colours = [png((c, 0, 0)) for c in (10, 20, 30)]
    assert by_dir.mask == colours  # name order, the text file left out
    listed = request_from_args(parser.parse_args([*video, str(frames / "f02.png"), str(frames / "f01.png")]))
    assert listed.mask == colours[1::-1]  # as given
    single = request_from_args(parser.parse_args([*video, str(frames / "f01.png")]))
    assert single.mask == colours[0]  # one image: every frame's, as before
