"""The API key check: ``Authorization: Bearer <key>`` on every ``/api/*`` route when a key is set."""

from __future__ import annotations

import hmac
import os

from videogen.errors import UnauthorizedError
from videogen.serve.config import API_KEY_ENV


class BearerAuth:
    def __init__(self, api_key: str | None):
        # The environment is read in the ingress replica, so a key can be given to the
        # replica (a Kubernetes secret) without appearing in the app's config.
        self.api_key = api_key or os.environ.get(API_KEY_ENV) or None

    def check(self, authorization: str | None) -> None:
        if not self.api_key:
            return
        scheme, _, token = (authorization or "").partition(" ")
        # compare_digest: the time taken does not reveal how much of the key matched.
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.api_key.encode()):
            raise UnauthorizedError("missing or wrong API key; send 'Authorization: Bearer <key>'")
