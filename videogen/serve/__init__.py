"""VideoGen on Ray Serve.

- ``config``: ``VideoGenAppConfig``, the argument of ``build_app``
- ``deployment_options``: every deployment option, derived in one place
- ``builder``: ``build_app`` (re-exported by ``serve_app.py``)
- ``ingress``: the FastAPI ingress deployment and the Python handle API
- ``serving``: what the ingress does (validate, store, dispatch, reap, report)
- ``worker_deployment``: the per-family worker deployment around ``GenerationWorker``
- ``jobs``: the durable SQLite job store
- ``protocol`` / ``errors``: HTTP models and the one error mapping
- ``demo``: ``python -m videogen.serve.demo``

Importing this package does not import torch.
"""
