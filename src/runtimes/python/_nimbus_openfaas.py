"""The OpenFaaS python3-http template form: ``def handle(event, context)`` in handler.py.

The event and context are those of the template (openfaas/python-flask-template), and the result
is mapped as its index.py maps it: a dict with ``statusCode``, ``body`` (a dict is sent as JSON)
and ``headers``, or a plain value Flask would send as it is.
"""

import json
import os
from urllib.parse import parse_qsl, urlsplit


class Event:
    """What the template passes: body (bytes), headers, method, query (dict), path."""

    def __init__(self, method, target, headers, body):
        parts = urlsplit(target)
        self.body = body
        # The request's own header message: case-insensitive get(), as Flask's request.headers.
        self.headers = headers
        self.method = method
        # Flask's request.args: first value per key via .get(); kept as a plain dict here.
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.path = parts.path or "/"


class Context:
    """The template's context: only the hostname."""

    def __init__(self):
        self.hostname = os.getenv("HOSTNAME", "localhost")


TEXT_HTML = "text/html; charset=utf-8"


class InvalidResponse(Exception):
    """The handler's result cannot be sent (e.g. a statusCode that is no number)."""


def _content_type(headers):
    for name, value in headers:
        if name.lower() == "content-type":
            return value
    return ""


def map_result(res):
    """(status, header pairs, body bytes) as the template's format_response would send them."""
    if res is None:
        return 200, [("content-type", TEXT_HTML)], b""
    if isinstance(res, dict):
        try:
            status = int(res.get("statusCode", 200))
        except (TypeError, ValueError):
            raise InvalidResponse("statusCode must be an integer, got %r" % (res.get("statusCode"),)) from None
        if not 100 <= status <= 599:
            raise InvalidResponse("statusCode must be from 100 to 599, got %d" % status)
        raw_headers = res.get("headers") or {}
        headers = list(raw_headers.items()) if isinstance(raw_headers, dict) else [tuple(pair) for pair in raw_headers]
        headers = [(str(name), str(value)) for name, value in headers]
        content_type = _content_type(headers)
        body = res.get("body", "")
        if content_type == "application/octet-stream" and isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        elif isinstance(body, dict):
            data = json.dumps(body).encode("utf-8")
            if not content_type:
                headers.append(("content-type", "application/json"))
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        else:
            data = str(body).encode("utf-8")
        if not _content_type(headers):
            headers.append(("content-type", TEXT_HTML))
        return status, headers, data
    if isinstance(res, (bytes, bytearray)):
        return 200, [("content-type", TEXT_HTML)], bytes(res)
    return 200, [("content-type", TEXT_HTML)], str(res).encode("utf-8")
