"""VideoGen: text/image-to-video with open diffusion models, served on Ray.

Importing this package must stay cheap and must never import torch: entry points
apply the ROCm environment first (see ``videogen.rocm_env``).
"""

__version__ = "0.1.0"
