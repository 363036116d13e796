"""Turning a message body into JSON data, whatever the body holds.

orjson does it for every well-formed event; ``json`` only for what orjson refuses
and ``json`` accepts, and never for a body nested deep enough to make ``json``
recurse out of its stack.
"""

from __future__ import annotations

import json
import re

import orjson

# Nesting the ``json`` fallback accepts; it recurses, and a deeper body would cost a
# RecursionError (or the stack) before it could be refused. orjson's own limit is 1024.
MAX_FALLBACK_DEPTH = 128


def decode(body: bytes | str):
    """orjson where it can (a third of ``json``'s time); ``json`` for what orjson
    refuses and ``json`` accepts (NaN, UTF-16, integers past 64 bits), so that the
    messages accepted stay the same. ``json`` recurses, so a body nested deeper
    than ``MAX_FALLBACK_DEPTH`` never reaches it (orjson refuses past 1024)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode(json.detect_encoding(body), "surrogatepass")
    depth = nesting_depth(body)
    if depth > MAX_FALLBACK_DEPTH:
        raise ValueError(f"nested {depth} levels deep")
    return json.loads(body)


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")


def nesting_depth(text: str) -> int:
    """How deep brackets nest outside strings, counted without recursing."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest
