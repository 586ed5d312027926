"""What the ingress does, apart from HTTP.

- ``auth``: the Bearer token check
- ``jobs``: validate, submit, get, list, cancel, wait, the SSE stream
- ``dispatch``: push queued jobs to the family's workers, hold their leases, reap
- ``status``: the runtime and models views, from what the replicas reported
- ``videogen_service``: ``VideoGenService``, one per ingress replica, composing them

Nothing here imports the package on purpose (no import cycle through it).
"""
