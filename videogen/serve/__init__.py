"""VideoGen on Ray Serve.

- ``config``: ``VideoGenAppConfig`` (the argument of ``build_app``) and the typed replica settings;
  ``model_configs``: a family's entry, a named model (``models``) and the served view of both
- ``deployment_options``: every deployment option and replica setting, derived in one place
- ``builder``: ``build_app`` (re-exported by ``serve_app.py``)
- ``ingress``: the FastAPI ingress deployment and the Python handle API
- ``service/``: what the ingress does (validate, submit, dispatch, reap, report)
- ``worker_deployment``: the worker deployment around ``GenerationWorker``, one per served model
- ``store/``: the durable SQLite job store (state machine, event log, replica reports)
- ``protocol``: the wire shapes (the only place they are built)
- ``errors``: error code -> HTTP status, the error body, the FastAPI handlers
- ``demo``: ``python -m videogen.serve.demo``

Importing this package does not import torch.
"""
