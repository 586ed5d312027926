"""The FastAPI app of one ingress replica, built from its own service and settings.

``VideoGenIngress.__serve_build_asgi_app__`` calls ``build_http_app`` when the
replica starts (Ray Serve's late-bound ingress), so every limit, key and
setting reaches the routes through ``app.state`` and dependencies, never
through module globals. The middleware, outermost first:

    CORS (when configured) -> AuthGate (401 before any body is read)
    -> RequestGuards (413 body limit, 405 with Allow) -> the routers and the page

Every error, raised in a route or answered by a guard, is rendered once in the
shape of its path's API: OpenAI's on /v1, VideoGen's elsewhere (``videogen.serve.errors``).
"""

from __future__ import annotations

from fastapi import FastAPI

from videogen import __version__
from videogen.serve.api_routes import router as api_router
from videogen.serve.errors import install_handlers
from videogen.serve.http_guards import RequestGuards, add_cors
from videogen.serve.openai.edits import document_edits
from videogen.serve.openai.edits import router as openai_edits_router
from videogen.serve.openai.routes import document_v1
from videogen.serve.openai.routes import router as openai_router
from videogen.serve.service.auth import AuthGate, document_auth
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.web import install_page

DESCRIPTION = (
    "Text/image-to-video jobs on Ray Serve. Every route but /healthz, the page and this schema needs "
    "'Authorization: Bearer <key>' when keys are configured. Errors: {'error': {'code', 'message', 'field'?, 'allowed'?}}."
)


def build_http_app(service: VideoGenService) -> FastAPI:
    settings = service.settings
    app = FastAPI(title="VideoGen", version=__version__, description=DESCRIPTION)
    app.state.service = service
    install_handlers(app)

    @app.get("/healthz", responses={503: {"description": "the job store does not answer"}})
    async def healthz() -> dict:
        await service.check_store()
        return {"status": "ok", "served_families": settings.served, "version": __version__}

    app.include_router(api_router)
    # /v1/videos/edits and /v1/videos/extensions: before /v1/videos/{video_id} matches "edits" as an id
    app.include_router(openai_edits_router)
    app.include_router(openai_router)  # /v1/videos: the OpenAI Videos API shape over the same jobs
    document_v1(app)  # the /v1 bodies (JSON and multipart) and statuses in the OpenAPI document
    document_edits(app)  # the edit and extension bodies
    document_auth(app, service.keys)  # no bearer scheme in the document when no key is configured
    install_page(app)  # the web page at /
    # add_middleware puts each one outside the ones added before it.
    app.add_middleware(RequestGuards, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(AuthGate, keys=service.keys)
    add_cors(app, settings.cors_origins)
    return app
