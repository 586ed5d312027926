"""The web page the ingress serves at ``/``: static files shipped in the package (no build step).

``index.html``, its script modules (``app.js``; ``dom.js``: building elements as text; ``media.js``: the inputs
each task takes) and ``style.css`` talk to the same ``/api/video/*`` routes as any client, with the API key
typed into the page.

The page renders server data (prompts, error messages, model names) as text only,
and every response here carries a strict Content-Security-Policy: scripts and styles
from this origin's files only (no inline script, style or event-handler attribute
runs), media and images from this origin or the page's own blob: URLs.
"""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# What /ui serves: the page's own files, not this module or its bytecode.
SERVED_SUFFIXES = (".html", ".js", ".css")


def install_page(app) -> None:
    """``/`` answers the page and ``/ui/*`` its files, each with ``SECURITY_HEADERS``."""
    from fastapi import HTTPException
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    class SecureStaticFiles(StaticFiles):
        async def get_response(self, path, scope):
            if not path.endswith(SERVED_SUFFIXES) or "/" in path.replace("\\", "/"):
                raise HTTPException(status_code=404)
            response = await super().get_response(path, scope)
            response.headers.update(SECURITY_HEADERS)
            return response

    app.mount("/ui", SecureStaticFiles(directory=WEB_DIR), name="ui")

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers=SECURITY_HEADERS)
