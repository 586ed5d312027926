"""Built-in tiny models: real diffusers pipelines with small random weights.

Each family's ``families/<family>/tiny.py`` builds its pipelines from the shared parts
here (``text_encoders``, ``tokenizers``, ``autoencoders``); ``cache`` builds a tiny model
once, saves it with ``save_pretrained`` (safetensors) and returns the directory, which
is then loaded through the same loader as real weights.

Deliberately empty: importing a part must not import the families (they import the parts).
"""
