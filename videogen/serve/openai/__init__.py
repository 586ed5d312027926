"""``/v1/videos``: the OpenAI Videos API shape over VideoGen's own jobs, store and API key.

``protocol`` holds the OpenAI wire shapes, ``serving`` maps them onto
``JobService`` (no second job implementation), ``routes`` the FastAPI routes
the ingress includes.
"""
