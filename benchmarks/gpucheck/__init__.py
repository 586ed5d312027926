"""The pieces of ``benchmarks/gpu_check.py``: every GPU figure VideoGen claims, measured in one short run.

- ``settings``: the models and shapes measured (real ``arch:`` presets on a GPU, tiny models on a CPU), each
  section's time budget on an H200, the few-step recipe.
- ``runner``: the report, written after every section; the global deadline; one section's failure recorded
  without losing the others.
- ``measure``: one loaded model (``Rig``), device-synchronised step timing, peak memory, the cost model's figures.
- ``encoding``: the MP4 writer a worker job uses where imageio-ffmpeg is absent (the GPU machine).
- ``sections_core`` / ``sections_levers`` / ``sections_memory``: the sections themselves.
- ``markdown``: the report as tables.
"""
