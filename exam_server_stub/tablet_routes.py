"""The browser tablet app: static files shipped in the package, served at ``/tablet/``.

Nothing is built at run time and nothing comes from a CDN: the files under
``tablet_app/`` are read once at start-up and served from memory with an ETag, a strict
Content-Security-Policy (the app talks to this server only) and no caching beyond
revalidation, so a tablet that reloads after an upgrade gets the new app.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from vigie.protocol import ErrorCode

from .api import Api, Caller, Param
from .errors import ApiError

routes = Api()
TAG = "tablet"
APP_DIR = Path(__file__).with_name("tablet_app")
PREFIX = "/tablet/"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\.(html|js|css|svg|png|webmanifest)$")
_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "webmanifest": "application/manifest+json",
}
MEDIA_TYPES = tuple(sorted({t.split(";")[0] for t in _TYPES.values()}))
# The app's own code only; images of questions arrive as data: URLs inside the package.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
FILE = Param(
    "name", "a file of the tablet app", {"type": "string", "examples": ["app.js"]},
    where="path", required=True,
)  # fmt: skip


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def load_assets(directory: Path = APP_DIR) -> dict[str, Asset]:
    assets: dict[str, Asset] = {}
    for path in sorted(directory.iterdir()):
        match = _NAME.match(path.name)
        if match is None or not path.is_file():
            continue
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        assets[path.name] = Asset(body, _TYPES[match.group(1)], etag)
    return assets


_ASSETS = load_assets()


def _serve(request: web.Request, name: str) -> web.Response:
    asset = _ASSETS.get(name)
    if asset is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"The tablet app has no file {name!r}.")
    headers = {**HEADERS, "ETag": asset.etag}
    if request.headers.get("If-None-Match") == asset.etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=asset.body, headers={**headers, "Content-Type": asset.content_type})


@routes.route(
    "GET", "/tablet", summary="The tablet app (redirects to /tablet/)", tag=TAG,
    caller=Caller.ANYONE, ok=None, extra_responses={308: "to /tablet/"},
)  # fmt: skip
async def tablet_root(request: web.Request) -> web.Response:
    raise web.HTTPPermanentRedirect(PREFIX)


@routes.route(
    "GET", PREFIX, summary="The tablet app: what a real tablet opens", tag=TAG,
    caller=Caller.ANYONE, ok="text/html", extra_responses={304: "not modified (ETag)"},
    description="A browser exam client speaking this protocol (docs/tablet-app.md).",
)  # fmt: skip
async def tablet_index(request: web.Request) -> web.Response:
    return _serve(request, "index.html")


@routes.route(
    "GET", PREFIX + "{name}", summary="A file of the tablet app", tag=TAG,
    caller=Caller.ANYONE, ok=MEDIA_TYPES, params=(FILE,),
    errors=(ErrorCode.NOT_FOUND,), extra_responses={304: "not modified (ETag)"},
)  # fmt: skip
async def tablet_file(request: web.Request) -> web.Response:
    return _serve(request, request.match_info["name"])
