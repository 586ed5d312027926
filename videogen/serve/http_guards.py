"""ASGI guards in front of the routes: body size, wrong methods, CORS.

- ``BodyLimit``: a body over ``max_body_bytes`` is refused with 413 before it
  is read whole: at once from ``Content-Length``, or as soon as a streamed
  (chunked) body has passed the limit.
- ``MethodGuard``: a path that exists but not with this method answers 405 with
  an ``Allow`` header naming *every* method the path has (Starlette would name
  only those of the first route that matched the path).
- CORS is off unless ``cors_origins`` is configured (``add_cors``).

Every refusal has the API's error body: ``{"error": {"code", "message"}}``, or
OpenAI's on /v1 paths (``videogen.serve.errors.send_error`` picks the shape).
"""

from __future__ import annotations

from typing import Any

from videogen.errors import ErrorCode, error_dict
from videogen.serve.errors import send_error

_ASGI = Any


async def _send_error(
    scope, send, status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
) -> None:
    await send_error(scope, send, error_dict(code, message), status, headers)


class BodyLimit:
    def __init__(self, app: _ASGI, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _message(self) -> str:
        return f"the request body is larger than this service accepts ({self.max_body_bytes} bytes)"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            status = 413 if length.isdigit() else 400
            code = ErrorCode.TOO_LARGE if length.isdigit() else ErrorCode.INVALID_REQUEST
            await _send_error(
                scope, send, status, code, self._message() if length.isdigit() else "Content-Length is not a number"
            )
            return
        seen = 0
        over = False

        async def counted_receive():
            # Past the limit the app is told the body ended (it reads no more of it) and its
            # answer is replaced by the 413: an app that catches read errors cannot turn it into a 400.
            nonlocal seen, over
            if over:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message):
            if not over:
                await send(message)
            elif message["type"] == "http.response.start":
                await _send_error(scope, send, 413, ErrorCode.TOO_LARGE, self._message())

        await self.app(scope, counted_receive, guarded_send)


class MethodGuard:
    def __init__(self, app: _ASGI):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            allowed = self.allowed_methods(scope)
            if allowed and scope["method"] not in allowed:
                await _send_error(
                    scope,
                    send,
                    405,
                    ErrorCode.METHOD_NOT_ALLOWED,
                    f"{scope['method']} is not allowed here; allowed: {', '.join(allowed)}",
                    {"Allow": ", ".join(allowed)},
                )
                return
        await self.app(scope, receive, send)

    def allowed_methods(self, scope) -> list[str]:
        """Every method some route offers for this path (HEAD beside GET); [] when no route has the path."""
        from starlette.routing import Match

        methods: set[str] = set()
        app = scope.get("app")  # Starlette puts itself here before its middleware runs
        for route in _flat_routes(getattr(getattr(app, "router", None), "routes", ())):
            route_methods = getattr(route, "methods", None)
            if not route_methods:
                continue
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return []  # this method is served here: nothing to guard
            if match == Match.PARTIAL:
                methods |= set(route_methods)
        return sorted(methods)


def _flat_routes(routes):
    """Every route, those of included routers too (FastAPI keeps an included router as one entry that
    refers to the router; its routes carry their full paths)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _flat_routes(included.routes)
        else:
            yield route


class RequestGuards:
    """Body limit -> method guard -> the app, as one middleware (``app.add_middleware(RequestGuards, max_body_bytes=...)``).

    Built with the replica's own settings: the app is made per replica, so no limit lives in a module global.
    """

    def __init__(self, app: _ASGI, max_body_bytes: int | None):
        chain: _ASGI = MethodGuard(app)
        self._chain = BodyLimit(chain, max_body_bytes) if max_body_bytes else chain

    async def __call__(self, scope, receive, send) -> None:
        await self._chain(scope, receive, send)


def add_cors(app, origins: list[str]) -> None:
    """CORS for the configured origins (off when none): outermost, so a preflight is answered without a key."""
    if origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        )
