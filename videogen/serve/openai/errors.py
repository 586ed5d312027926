"""Errors on ``/v1`` routes in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

The service raises VideoGen's errors and the app's handlers answer them in
VideoGen's shape; this ASGI middleware rewrites those answers on ``/v1`` paths
only, so the handlers stay one set and the openai SDK raises its typed
exceptions (a refused value is 400 there, as OpenAI answers it).
"""

from __future__ import annotations

import json

from videogen.serve.openai.protocol import OPENAI_PREFIX, openai_error, openai_status


class OpenAIErrorShape:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(OPENAI_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        held: dict = {}
        chunks: list[bytes] = []

        async def reshape(message):
            if message["type"] == "http.response.start":
                kind = dict(message.get("headers") or []).get(b"content-type", b"")
                if message["status"] >= 400 and kind.startswith(b"application/json"):
                    held["start"] = message  # answered once the body is read
                    return
            elif message["type"] == "http.response.body" and "start" in held:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                start = held.pop("start")
                try:
                    body = openai_error(json.loads(b"".join(chunks) or b"{}"), start["status"])
                except ValueError:
                    body = {"error": {"message": b"".join(chunks).decode(errors="replace"), "type": "server_error",
                                      "param": None, "code": None}}
                data = json.dumps(body).encode()
                headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(data)).encode()))
                await send({**start, "status": openai_status(start["status"]), "headers": headers})
                await send({"type": "http.response.body", "body": data})
                return
            await send(message)

        await self.app(scope, receive, reshape)
