"""`/docs` (Swagger UI) and `/redoc` served entirely by this service: no CDN.

Government intranets often have no internet, so the JavaScript and CSS are vendored in
`app/static/` from the npm registry at pinned versions (`make vendor-docs`):

    swagger-ui-dist 5.35.0  → app/static/swagger-ui/  (swagger-ui-bundle.js, swagger-ui.css)
    redoc 2.5.4             → app/static/redoc/       (bundles/redoc.standalone.js)
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
SWAGGER_UI_VERSION = "5.35.0"
REDOC_VERSION = "2.5.4"
_OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def install(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """Mount the vendored assets and the two documentation pages."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} · Swagger UI",
            oauth2_redirect_url=_OAUTH2_REDIRECT,
            swagger_js_url=f"/static/swagger-ui/swagger-ui-bundle.js?v={SWAGGER_UI_VERSION}",
            swagger_css_url=f"/static/swagger-ui/swagger-ui.css?v={SWAGGER_UI_VERSION}",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        )

    @app.get(_OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} · ReDoc",
            redoc_js_url=f"/static/redoc/redoc.standalone.js?v={REDOC_VERSION}",
            redoc_favicon_url="/static/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
