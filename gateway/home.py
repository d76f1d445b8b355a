"""``/``: a small page that points a visitor at the API documentation, the console and the
public audit checkpoint, instead of a 404."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

LINKS = (
    (
        "/docs",
        "API documentation (OpenAPI)",
        "for connector developers: every route, its input and its problem+json errors",
    ),
    (
        "/console",
        "Console",
        "for privacy officers, the partnership's DPO and the legal help "
        "desk (sign-in with password and TOTP)",
    ),
    (
        "/v1/audit/sth",
        "Audit log checkpoint",
        "the latest signed tree head, public: keep a copy "
        "and verify that the log only grows (docs/audit.md)",
    ),
)
# Static text only, and nothing else may load: no script, style or frame.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def page() -> str:
    items = "\n".join(
        f'<li><a href="{escape(href)}">{escape(title)}</a>: {escape(about)}</li>'
        for href, title, about in LINKS
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        "<title>ppsgate</title></head>\n<body>\n<h1>ppsgate</h1>\n"
        "<p>Privacy-preserving fraud-indicator sharing gateway for the public-private "
        "partnership. Partners exchange keyed hashes of identifiers, never the identifiers.</p>"
        f"\n<ul>\n{items}\n</ul>\n</body>\n</html>\n"
    )


@router.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    return HTMLResponse(page(), headers=SECURITY_HEADERS)
