"""The web apps the store service serves: the shopper PWA at ``/app/``, the staff console at
``/staff/`` and their common code at ``/shared/`` (ADR 0011).

They are plain ES modules, HTML and CSS shipped inside the package (``walkout/web``), so
``walkout serve`` needs no build step and no second server. The mounts are added after the API
routers, so an API path always wins over a file: ``/staff/...`` API routes keep working and the
console navigates with hash routes (``/staff/#/reviews``).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"

# Module scripts load only with a JavaScript type, and some systems' MIME tables lack these or
# map .js to text/plain: set them rather than trust the host.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/manifest+json", ".webmanifest")

#: Files that must be revalidated on every load, so a new release reaches phones at once: the
#: pages, the service worker (browsers require it) and the manifest. The rest may be cached
#: briefly; the service worker's shell cache is keyed by release.
_REVALIDATE = frozenset({".html", ".webmanifest"})
_REVALIDATE_NAMES = frozenset({"sw.js"})


class WebAppFiles(StaticFiles):
    """Static files of one app: ``index.html`` for unknown extension-less paths (deep links)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        file = PurePosixPath(path)
        try:
            response = await super().get_response(path, scope)
        except HTTPException as e:
            if e.status_code != 404 or file.suffix:
                raise
            response = await super().get_response("index.html", scope)
        if file.name in _REVALIDATE_NAMES or file.suffix in _REVALIDATE or not file.name:
            response.headers["Cache-Control"] = "no-cache"
        elif response.status_code == 200:
            response.headers.setdefault("Cache-Control", "public, max-age=300")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def mount_web_apps(app: FastAPI, root: Path = WEB_ROOT) -> None:
    """Serve the web apps from ``root``; call after every API router is included."""
    app.mount("/shared", WebAppFiles(directory=root / "shared"), name="web-shared")
    app.mount("/app", WebAppFiles(directory=root / "app", html=True), name="web-app")
    app.mount("/staff", WebAppFiles(directory=root / "staff", html=True), name="web-staff")
