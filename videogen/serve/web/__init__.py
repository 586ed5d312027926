"""The web page the ingress serves at ``/``: static files shipped in the package (no build step).

``index.html``, ``app.js`` and ``style.css`` talk to the same ``/api/video/*``
routes as any client, with the API key typed into the page.
"""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent


def install_page(app) -> None:
    """``/`` answers the page and ``/ui/*`` its files."""
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/ui", StaticFiles(directory=WEB_DIR), name="ui")

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(WEB_DIR / "index.html", media_type="text/html")
