"""Who is calling: API keys with owners and roles, checked before anything reads the request.

- ``KeyRing``: the keys an ingress replica accepts, each mapped to a ``Principal``
  (name = the owner of the jobs it submits, role ``admin`` | ``user``, limits).
  Read in the replica from the config (``api_key``, ``api_keys``), from
  ``api_keys_file`` and from ``$VIDEOGEN_API_KEY`` / ``$VIDEOGEN_API_KEYS``, so a
  key can come from a Kubernetes secret without entering the app's config.
  Keys are kept as SHA-256 digests: the lookup is a dict hit on the digest, so
  its time does not depend on how much of a real key a guess matched.
- ``AuthGate``: ASGI middleware in front of every route but the public ones
  (``/healthz``, the page shell and its static files, the OpenAPI document): a
  request without a valid key is answered 401 before its body is read or
  validated; a valid one carries its ``Principal`` in the request scope.
- ``principal``: the one FastAPI dependency a route takes to know its caller.
- ``check_exposure``: an ingress with no key refuses to start when Serve's HTTP
  proxy listens beyond loopback, unless the operator set ``allow_unauthenticated``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from videogen.errors import UnauthorizedError
from videogen.serve.config import API_KEY_ENV, API_KEYS_ENV, ApiKeyConfig, Role, VideoGenAppConfig
from videogen.serve.errors import route_path, send_error

logger = logging.getLogger("videogen.serve")

# Paths anyone may read: the health check, the page shell (it holds no data; it asks for the key) and the schema.
PUBLIC_PATHS = frozenset({"/healthz", "/", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
PUBLIC_PREFIXES = ("/ui/",)
_BEARER = HTTPBearer(auto_error=False, description="an API key: 'Authorization: Bearer <key>'")


@dataclass(frozen=True)
class Principal:
    """A caller: ``name`` owns the jobs it submits; an admin sees every job and the runtime's details."""

    name: str
    role: Role
    max_queued_jobs: int
    submissions_per_minute: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def owner_filter(self) -> str | None:
        """The owner a store read is limited to: None (every job) for an admin, else the caller's own."""
        return None if self.is_admin else self.name


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _parse_keys(text: str, where: str) -> dict[str, ApiKeyConfig]:
    """A mapping key -> {name, role, ...} from JSON or YAML text."""
    import yaml  # JSON is YAML too

    from videogen.serve.config import _check_api_keys

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{where}: not YAML/JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping of key -> {{name, role}}")
    keys = {str(k): ApiKeyConfig.model_validate(v) for k, v in data.items()}
    return _check_api_keys(keys, where)


class KeyRing:
    def __init__(self, cfg: VideoGenAppConfig, environ: dict[str, str] | None = None):
        env = os.environ if environ is None else environ
        configs: dict[str, ApiKeyConfig] = {}
        single = cfg.api_key or env.get(API_KEY_ENV) or None
        if single:
            configs[single] = ApiKeyConfig(name="admin", role="admin")
        configs.update(cfg.api_keys)
        if cfg.api_keys_file:
            with open(os.path.expanduser(cfg.api_keys_file), encoding="utf-8") as f:
                configs.update(_parse_keys(f.read(), f"api_keys_file {cfg.api_keys_file}"))
        if env.get(API_KEYS_ENV):
            configs.update(_parse_keys(env[API_KEYS_ENV], f"${API_KEYS_ENV}"))
        self._by_digest = {_digest(k): self._principal(c, cfg) for k, c in configs.items()}
        self.allow_unauthenticated = cfg.allow_unauthenticated
        self._open = Principal("anonymous", "user", cfg.key_max_queued_jobs, cfg.key_submissions_per_minute)
        self._local = Principal("local", "admin", cfg.key_max_queued_jobs, cfg.key_submissions_per_minute)
        self._loopback_only = True  # set by check_exposure

    @staticmethod
    def _principal(c: ApiKeyConfig, cfg: VideoGenAppConfig) -> Principal:
        return Principal(
            c.name,
            c.role,
            c.max_queued_jobs or cfg.key_max_queued_jobs,
            c.submissions_per_minute or cfg.key_submissions_per_minute,
        )

    @property
    def enabled(self) -> bool:
        return bool(self._by_digest)

    @property
    def names(self) -> list[str]:
        return sorted({p.name for p in self._by_digest.values()})

    def identify(self, authorization: str | None) -> Principal:
        """The caller of a request with this ``Authorization`` header; ``UnauthorizedError`` without a valid key."""
        if not self.enabled:
            # No key at all: the operator chose an open service (loopback only, or allow_unauthenticated).
            # On loopback the one local user is the admin; on a network every caller is the same plain user.
            return self._local if self._loopback_only else self._open
        scheme, _, token = (authorization or "").partition(" ")
        found = self._by_digest.get(_digest(token.strip())) if scheme.lower() == "bearer" and token.strip() else None
        if found is None:
            raise UnauthorizedError("missing or wrong API key; send 'Authorization: Bearer <key>'")
        return found

    def check_exposure(self, host: str | None) -> None:
        """Refuse to serve without a key beyond loopback (``host`` is Serve's HTTP proxy bind address)."""
        self._loopback_only = host is None or is_loopback(host)
        if self.enabled or self._loopback_only:
            return
        if not self.allow_unauthenticated:
            raise RuntimeError(
                f"VideoGen will not serve without an API key: Serve's HTTP proxy listens on {host!r}, beyond "
                f"loopback. Give keys (api_keys, api_keys_file, ${API_KEY_ENV} or ${API_KEYS_ENV}), bind "
                "http_options.host to 127.0.0.1, or set allow_unauthenticated: true to serve openly on purpose."
            )
        logger.warning(
            "VideoGen serves WITHOUT authentication on %s (allow_unauthenticated: true): anyone who can "
            "reach it can submit, read and cancel jobs",
            host,
        )

    def describe(self) -> dict[str, Any]:
        """What ``runtime`` says about authentication (never a key)."""
        return {
            "enabled": self.enabled,
            "allow_unauthenticated": self.allow_unauthenticated,
            "open_on_network": not self.enabled and not self._loopback_only,
            "keys": len(self._by_digest),
        }


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume it is reachable from elsewhere


def serve_http_host() -> str | None:
    """The address Serve's HTTP proxy binds (http_options.host); None outside Serve."""
    try:
        import ray
        from ray.serve.context import _get_global_client

        if not ray.is_initialized():
            return None
        return _get_global_client().http_config.host
    except Exception:  # noqa: BLE001 - not in a Serve cluster (tests building the app directly)
        return None


def refuse_keyless_exposure(cfg: VideoGenAppConfig, host: str | None, environ: dict[str, str] | None = None) -> None:
    """The build-time half of ``check_exposure``: when no key can come from anywhere (config, file, environment)
    and the proxy listens beyond loopback, the app is not even built. A key file or a variable that only the
    ingress's node has is checked again by the replica itself."""
    env = os.environ if environ is None else environ
    if cfg.allow_unauthenticated or cfg.api_key or cfg.api_keys or cfg.api_keys_file:
        return
    if env.get(API_KEY_ENV) or env.get(API_KEYS_ENV):
        return
    KeyRing(cfg, environ={}).check_exposure(host)


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class AuthGate:
    """ASGI middleware: identify the caller before any route (or body parsing) runs."""

    def __init__(self, app, keys: KeyRing):
        self.app = app
        self.keys = keys

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or _is_public(route_path(scope)):  # without Serve's route prefix
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or ()).get(b"authorization")
        try:
            who = self.keys.identify(header.decode("latin-1") if header is not None else None)
        except UnauthorizedError as exc:  # in the shape of the path's API (OpenAI's on /v1)
            await send_error(scope, send, exc.to_dict(), 401, {"WWW-Authenticate": 'Bearer realm="videogen"'})
            return
        scope.setdefault("state", {})["principal"] = who
        await self.app(scope, receive, send)


def document_auth(app, keys: KeyRing) -> None:
    """The OpenAPI document says what this replica asks for: with no key configured no route takes the
    bearer token ``principal`` declares, so no operation lists it (a client or a schema fuzzer would wait
    for a 401 that never comes)."""
    if keys.enabled:
        return
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.pop("security", None)
            schemes = schema.get("components", {}).get("securitySchemes", {})
            schemes.pop(_BEARER.scheme_name, None)
            if not schemes:
                schema.get("components", {}).pop("securitySchemes", None)
        return app.openapi_schema

    app.openapi = openapi


async def principal(request: Request, _credentials: Any = Depends(_BEARER)) -> Principal:
    """The one dependency routes take: the caller ``AuthGate`` identified (the bearer scheme is declared for
    the OpenAPI document; the check itself ran in the gate, before the body was read)."""
    who = request.scope.get("state", {}).get("principal")
    if who is None:  # a route reached without the gate would be a wiring bug: fail closed
        raise UnauthorizedError("the request was not authenticated")
    return who


# The Python handle API is reached only from drivers inside the Ray cluster: it acts as an admin.
HANDLE = Principal("handle", "admin", 10**9, 10**9)
