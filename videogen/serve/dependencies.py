"""What a route depends on, as FastAPI dependencies: the replica's service and the caller.

The app is built per ingress replica (``videogen.serve.http_app``) with its
``VideoGenService`` in ``app.state``; routes never reach for globals.
"""

from __future__ import annotations

from fastapi import Request

from videogen.serve.service.auth import Principal, principal
from videogen.serve.service.videogen_service import VideoGenService

__all__ = ["Principal", "principal", "videogen"]


async def videogen(request: Request) -> VideoGenService:
    """This replica's service, started on first use (its loops need the replica's running event loop)."""
    return request.app.state.service.ready()
