"""Real-size architecture presets (``--model arch:<preset>``).

A preset is the architecture of a published checkpoint, every component at its real
size, written down as constructor/config values. It is built offline on the meta
device (for parameter counts) or materialised with random weights directly on the
target device (to exercise memory, placement and speed without any download).

- ``preset``: the types (``ComponentArch``, ``ArchPreset``) and meta-device builds.
- ``materialise``: meta construction contexts, placing parameters on a device, random init.
- ``shared_components``: components used by several families (T5/UMT5-XXL, CLIP, Llama-3, VAEs).
- ``catalog``: every family's presets by id; ``get_preset``; ``describe_presets``.
- ``pipeline``: ``build_pipeline(preset, task, device, dtype)`` -> a diffusers pipeline.

The presets themselves live in each family's package (``families/<family>/presets.py``).
"""
