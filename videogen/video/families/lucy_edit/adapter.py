"""Lucy Edit adapter: ``LucyEditPipeline`` (video-to-video: a text-guided edit of the input clip).

The shared adapter does all of it: the clip is decoded once and conformed to the job (its own length at the job's fps
when the request names no ``num_frames``, down to 4k+1; the job's size, a multiple of 32), every change said; the
pipeline takes the frames as ``video`` and returns one edited frame per input frame (it reads the frame count from
the clip, never from ``num_frames``). The family takes no ``strength`` (``task_optional_inputs``): the pipeline never
noises the clip part-way, it conditions every step on the clip's latents, so a request naming one is refused and
every step runs. ``guidance_scale_2`` is refused too: no published Lucy Edit checkpoint has a second expert.
"""

from __future__ import annotations

from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.lucy_edit.spec import SPEC


class LucyEditAdapter(VideoPipelineAdapter):
    spec = SPEC
