"""Lucy Edit's cost facts (``LucyEditPipeline``, diffusers 0.42).

Everything the cost model needs beyond these is read from the preset or shared: the transformer is a
``WanTransformer3DModel`` (the shared probe, at its 96 input channels: the noise and the clip's latents side by side),
every token gets its own timestep (``expand_timesteps`` in the preset's pipeline kwargs), and video-to-video
VAE-encodes the input clip once, all of the job's frames (``shapes.pipeline_facts``' default for the task), before the
first step; it is not re-encoded per step.
"""

from videogen.video.cost.facts import CostFacts, TextFacts

TEXT_TOKENS = 512  # the pipeline's max_sequence_length: the prompt is padded to it, and the DiT attends to all of it

COST = CostFacts(
    # the VAE's config names its compression (Wan 2.2's: /16 in space, /4 in time)
    vae_spatial="config_scale_factor",
    vae_temporal="config_scale_factor",
    # with guidance the transformer runs twice per step: conditional, then unconditional (cache contexts "cond" and
    # "uncond")
    cfg="sequential",
    text=TextFacts(tokens=TEXT_TOKENS, encoder_tokens={"text_encoder": None}),  # UMT5 at max_sequence_length
)

__all__ = ["COST", "TEXT_TOKENS"]
