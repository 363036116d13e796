"""Text the database cannot store, refused before the request is read: PostgreSQL's
text types hold no NUL character (U+0000), so a NUL in an id or a field passed
every schema and then failed in SQL, a 500. A NUL anywhere in the path, the query
or a JSON body is a 422 instead, in every service (the app factory installs it)."""

from __future__ import annotations

from flask import Flask, request

from shared.errors import Invalid

NUL = "\x00"
WHY = ["NUL characters (U+0000) are not accepted in text."]


def install(app: Flask) -> None:
    # After authentication (the hook the app factory installs first): 401 comes first.
    app.before_request(refuse_nul)


def refuse_nul() -> None:
    # Read from the WSGI environ, as Werkzeug reads the path and the query string:
    # both are Latin-1 text there, where a NUL is the one character that is a NUL
    # byte in the path's UTF-8 and in the query's bytes.
    environ = request.environ
    where = [
        name
        for name, found in (
            ("path", NUL in (environ.get("PATH_INFO") or "")),
            ("query", _in_query(environ.get("QUERY_STRING", ""))),
            ("json", _in_json(environ)),
        )
        if found
    ]
    if where:
        raise Invalid(
            "text may not contain NUL characters (U+0000)", errors=dict.fromkeys(where, WHY)
        )


def _in_query(raw: str) -> bool:
    return "%00" in raw or NUL in raw


def _in_json(environ: dict) -> bool:
    # No Content-Type, no JSON (most requests: reads), without parsing the header.
    # Then a byte search: a JSON body can carry a NUL only as the escape \u0000.
    if (
        not environ.get("CONTENT_TYPE")
        or not request.is_json
        or b"\\u0000" not in request.get_data(cache=True)
    ):
        return False
    return _holds_nul(request.get_json(silent=True))


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False
