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
    where = [
        name
        for name, found in (
            ("path", NUL in request.path),
            ("query", _in_query()),
            ("json", _in_json()),
        )
        if found
    ]
    if where:
        raise Invalid(
            "text may not contain NUL characters (U+0000)", errors=dict.fromkeys(where, WHY)
        )


def _in_query() -> bool:
    raw = request.query_string
    return b"%00" in raw or b"\x00" in raw


def _in_json() -> bool:
    # No Content-Type, no JSON (most requests: reads), without parsing the header.
    # Then a byte search: a JSON body can carry a NUL only as the escape \u0000.
    if (
        not request.environ.get("CONTENT_TYPE")
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
