"""The cost of a request, from the architecture alone (issue 7): parameters and weight bytes,
latent shape and tokens, FLOPs of each stage, and device memory per placement.

Nothing here loads weights or needs a GPU: every number comes from the real-size
architecture presets (``videogen.video.arch``) built on the meta device.

- ``measure``: FLOPs and peak live bytes of one call on the meta device.
- ``fit``: exact polynomial fits of those measurements in the request's shape variables.
- ``facts``: ``CostFacts``, what a family's pipeline does that its cost depends on (each family's
  ``families/<family>/cost.py`` states its own; nothing here names a family).
- ``shapes``: latent shape, video tokens and text tokens per family, as each pipeline computes them.
- ``probes``: meta-device inputs for each denoiser, VAE and encoder class.
- ``vae_tiles``: the decode calls a VAE makes with and without tiling/slicing.
- ``calibrate``: the per-preset fitted models (first call measures, later calls evaluate).
- ``memory``: weight bytes, device-resident weights per placement, peak device memory.
- ``device_peaks``: the one device table: dense bf16/fp16 FLOP/s (datasheet, measured) and memory per device.
- ``published_runs``: published end-to-end runs with their conditions, and the efficiency they give the time
  estimate (``videogen.video.throughput`` turns FLOPs into seconds).
- ``estimate``: ``CostEstimate`` and ``estimate_cost``.
"""
