"""Server-rendered pages of any service: sign-in by token into a cookie, sign-out,
CSRF on every form, the base template and stylesheet, and security headers.

``install(app, "/workspace")`` makes every route under the prefix a page:

* A browser cannot send a bearer header on navigation, so ``?token=<token>`` on a
  GET is verified once, moved into an HttpOnly, SameSite=Strict cookie scoped to the
  prefix, and the browser is redirected to the same address without it (the token
  stays out of the address bar and history). Without a valid cookie a page answers
  401 with a sign-in form. Only pages read the cookie; the API never does.
* Every POST under the prefix that was signed in by the cookie must carry
  ``csrf_token``: an HMAC of the cookie's token under the service's auth secret, so
  it needs no server-side session and dies with the token. Missing or wrong: 403.
  (A request with an ``Authorization`` header needs none: a browser never adds one
  cross-site.)
* ``POST <prefix>/sign-out`` (with the CSRF field) clears the cookie.
* Templates extend ``pages/base.html`` (skip link, landmarks, ``pages.css``) and put
  ``{{ csrf_field() }}`` in every form. Responses get a strict Content-Security-Policy
  unless a view set its own. See docs/pages.md.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, redirect, render_template, request
from markupsafe import Markup

from shared.auth import ProviderUnavailable, TokenError
from shared.errors import AppError

COOKIE = "rapport_token"
FIELD = "csrf_token"
STATIC = "/pages-static"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

bp = Blueprint(
    "pages", __name__, template_folder="templates", static_folder="static", static_url_path=STATIC
)


def install(app: Flask, prefix: str) -> None:
    """Serve the routes under ``prefix`` as signed-in pages (call once per prefix)."""
    prefixes = app.extensions.setdefault("rapport_pages", [])
    prefixes.append(prefix.rstrip("/"))
    if len(prefixes) > 1:
        return
    app.register_blueprint(bp)
    # Ahead of the shared authentication hook, which reads only the header.
    app.before_request_funcs.setdefault(None, []).insert(0, _sign_in)
    app.after_request(_secure)
    app.context_processor(lambda: {"csrf_field": csrf_field, "page_prefix": _prefix()})


def _prefix() -> str | None:
    path = request.path
    for prefix in current_app.extensions.get("rapport_pages", ()):
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return None


def _secret() -> str:
    return current_app.config["RAPPORT_SETTINGS"].auth_secret


def csrf_token(token: str | None = None) -> str:
    token = token if token is not None else request.cookies.get(COOKIE, "")
    return hmac.new(_secret().encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD, csrf_token())


def refusals_as_pages(blueprint):
    """A refusal (``AppError``) raised by a page's use case answered as a page with the
    same status and words the API gives, on every route of ``blueprint``."""
    blueprint.register_error_handler(
        AppError, lambda exc: message(exc.status, exc.title, exc.detail)
    )
    return blueprint


def message(status: int, title: str, text: str, sign_in: bool = False):
    html = render_template("pages/message.html", title=title, text=text, sign_in=sign_in)
    return html, status, {"Content-Type": "text/html; charset=utf-8"}


def _sign_in():
    prefix = _prefix()
    if prefix is None or request.headers.get("Authorization"):
        return None
    if request.method == "GET" and "token" in request.args:
        return _take_token(prefix, request.args["token"])
    token = request.cookies.get(COOKIE)
    if request.method == "POST" and request.path == prefix + "/sign-out":
        return _sign_out(prefix, token)
    if not token:
        return message(401, "Sign in", "Paste the access token you were given.", sign_in=True)
    try:
        _verify(token)
    except ProviderUnavailable:
        return _provider_away()
    except TokenError:
        return message(
            401,
            "Sign in again",
            "Your sign-in has expired or is not valid; paste a current access token.",
            sign_in=True,
        )
    if request.method not in SAFE_METHODS and not _csrf_ok(token):
        return message(
            403,
            "Form refused",
            "This form came without a valid security token "
            "(it may be from an old page or another site). Reload the page and "
            "send it again; nothing was saved.",
        )
    request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return None


def _verify(token: str) -> None:
    """Any token the API accepts signs in to the pages: Rapport's own, and the
    identity provider's when one is configured."""
    current_app.extensions["rapport"].authenticator.verify(token)


def _provider_away():
    return message(
        503,
        "Sign-in unavailable",
        "Access tokens cannot be checked just now; try again in a minute.",
    )


def _csrf_ok(token: str) -> bool:
    sent = request.form.get(FIELD, "")
    return bool(sent) and hmac.compare_digest(sent, csrf_token(token))


def _take_token(prefix: str, token: str):
    try:
        _verify(token)
    except ProviderUnavailable:
        return _provider_away()
    except TokenError:
        return message(
            401, "Sign in", "That access token is not valid or has expired.", sign_in=True
        )
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    response = redirect(request.path + ("?" + urlencode(rest) if rest else ""), code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=request.is_secure,
        path=prefix,
        max_age=8 * 3600,
    )
    return response


def _sign_out(prefix: str, token: str | None):
    if token and not _csrf_ok(token):
        return message(403, "Form refused", "Sign out from a page of this site.")
    html, status, headers = message(200, "Signed out", "You are signed out.", sign_in=False)
    response = current_app.make_response((html, status, headers))
    response.delete_cookie(COOKIE, path=prefix)
    return response


def _secure(response):
    if _prefix() is not None or request.path.startswith(STATIC):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
    return response
