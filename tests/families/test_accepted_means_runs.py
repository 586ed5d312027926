"""Accepted means runs: every request the validator accepts either completes on the tiny model or is refused
before it runs with a 4xx-class error naming a field (never a raw pipeline error, never a hang).

Hypothesis draws requests across each family's *declared* ranges (frames, height, width) on its tiny model.
The worker has measured its own throughput first (its warm-up run), so admission refuses what would outlast
``JOB_TIMEOUT_S`` on this CPU; everything it admits must produce a video of the promised shape.
Bounded: a few derandomized examples per family and task. Video-to-video is covered too: its input is one small
generated clip (5 frames of 32x32), conformed to each drawn shape (the drawn ``num_frames`` is sent, so the clip is
padded or cut to it); the clip's own length, rate and size are not drawn here (test_video_to_video.py varies them).
First-last-frame (Wan) is covered the same way, one small PNG as both its first and its last frame.
Wan VACE too: the clip (with the PNG as its mask for video-inpaint), the PNG as reference-to-video's reference.
Keyframes (LTX-Video): the PNG at frame 0 and the clip from the family's ``min_frames - 1`` (cut to what fits).
A family with sound (LTX-2) draws ``with_audio`` too: the MP4 has a decodable audio track exactly when it is kept.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videogen.errors import InvalidRequestError, VideoGenError
from videogen.video.encode import read_mp4
from videogen.video.families import get_adapter
from videogen.video.registry import FAMILY_IDS, SPECS
from videogen.video.request import VideoRequest
from videogen.video.soundtrack import read_audio_track
from videogen.video.video_to_video import clip_b64
from videogen.video.worker import GenerationWorker

JOB_TIMEOUT_S = 3.0
PAIRS = [(f, t) for f in FAMILY_IDS for t in SPECS[f].tasks]
# Video-to-video's input: a small real MP4 (5 frames of 32x32 at 8 fps).
_CLIP = clip_b64(np.random.default_rng(0).integers(0, 255, (5, 32, 32, 3), dtype=np.uint8), 8)


@pytest.fixture(scope="module")
def worker():
    return GenerationWorker(models={f: "tiny" for f in FAMILY_IDS}, job_timeout_s=JOB_TIMEOUT_S)


def _requests(family: str):
    spec = SPECS[family]
    rule, m = spec.frame_rule, spec.resolution_multiple
    sizes = st.integers(min_value=max(m, 16), max_value=spec.max_size)  # the request model takes >= 16
    # LTX-Video's latent upscale (its tiny model has an upsampler): two passes, priced as such by admission
    upscale = {"latent_upscale": st.booleans()} if get_adapter(family).has_latent_upsampler_models else {}
    # a family with sound (LTX-2): with or without its track in the MP4
    audio = {"with_audio": st.booleans()} if spec.audio else {}
    return st.fixed_dictionaries(
        {
            "num_frames": st.integers(min_value=rule.min_frames, max_value=rule.max_frames),
            "height": sizes,
            "width": sizes,
            "seed": st.integers(min_value=0, max_value=2**16),
            **upscale,
            **audio,
        }
    )


@pytest.mark.parametrize(("family", "task"), PAIRS)
def test_every_accepted_request_runs_or_is_refused_naming_a_field(worker, family, task, png_b64, tmp_path_factory):
    assert worker.warm_up(family, task) is not None  # throughput measured: admission can judge time here
    spec = SPECS[family]

    @settings(
        max_examples=2, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(values=_requests(family))
    def check(values):
        image = png_b64 if task in ("image-to-video", "first-last-frame") else None
        last_image = png_b64 if task == "first-last-frame" else None
        video = _CLIP if task in ("video-to-video", "video-inpaint", "control-to-video") else None
        request = VideoRequest(
            family=family,
            task=task,
            prompt="a fox",
            image=image,
            last_image=last_image,
            video=video,
            # Wan VACE: the PNG as the inpainting mask (resized to each drawn size) and as a reference image
            mask=png_b64 if task == "video-inpaint" else None,
            reference_images=[png_b64] if task == "reference-to-video" else None,
            # keyframes: the PNG first and the clip from the last frame every drawn length has (min_frames - 1)
            conditions=[
                {"image": png_b64, "frame_index": 0},
                {"video": _CLIP, "frame_index": spec.frame_rule.min_frames - 1},
            ]
            if task == "keyframes"
            else None,
            num_inference_steps=1,
            **values,
        )
        out = tmp_path_factory.mktemp("accepted") / "v.mp4"
        try:
            result = worker.generate(request, out)
        except InvalidRequestError as exc:  # refused before running: names the field, says what fits
            assert exc.field in ("num_frames", "height", "width"), exc.to_dict()
            assert exc.allowed, exc.to_dict()
            assert not out.exists()
            return
        except VideoGenError as exc:  # anything else is a bug this test exists to find
            raise AssertionError(f"{family}/{task} {values}: {exc.to_dict()}") from exc
        frames, _ = read_mp4(out)
        assert frames.shape[0] == result.num_frames == spec.output_frames(task, result.params["num_frames"])
        assert frames.shape[1:3] == (result.params["height"], result.params["width"])
        # the soundtrack is in the file exactly when the job keeps one (decoded, not only listed)
        track = read_audio_track(out)
        assert (track is not None and track.samples.size > 0) == bool(result.params.get("with_audio"))

    check()
