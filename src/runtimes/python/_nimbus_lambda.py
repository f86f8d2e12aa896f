"""API Gateway HTTP API payload v2.0 event, Lambda context and response mapping for the Nimbus
Python shim, so handlers written for AWS Lambda run unmodified. Mirrors the Node shim's
lambda-event.cts / lambda.cts."""

import base64
import json
import re
import time
from urllib.parse import unquote_plus

_TEXT_TYPE = re.compile(r"^text/|json|xml|x-www-form-urlencoded|javascript", re.IGNORECASE)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
#: Account id used in ARNs (code sometimes parses them; the shape matters, not the value).
ACCOUNT_ID = "000000000000"


class InvalidResponse(Exception):
    """The handler returned something that cannot become an HTTP response."""


def is_text_content_type(content_type):
    return bool(content_type) and _TEXT_TYPE.search(content_type) is not None


def format_request_time(epoch_ms):
    t = time.gmtime(epoch_ms / 1000)
    return "%02d/%s/%d:%02d:%02d:%02d +0000" % (t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec)


def _parse_query(raw):
    """Decoded query parameters; repeated names comma-joined (v2.0 has no multi-value fields)."""
    params = {}
    for pair in raw.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        params[name] = params[name] + "," + value if name in params else value
    return params or None


def build_event(method, target, http_version, header_items, body, invocation_id, now_ms):
    """The v2.0 event. As API Gateway does, the cookie header moves to `cookies`, header names are
    lowercased and repeated headers comma-joined; a non-text body is base64-encoded."""
    raw_path, _, raw_query = target.partition("?")
    headers = {}
    cookies = []
    for name, value in header_items:
        name = name.lower()
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[name] = headers[name] + "," + value if name in headers else value
    host = headers.get("host", "localhost")
    forwarded = headers.get("x-forwarded-for", "").split(",")[0].strip()
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "nimbus",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": http_version,
                # A unix socket has no peer address; the gateway passes the client's.
                "sourceIp": forwarded or "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": invocation_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": format_request_time(now_ms),
            "timeEpoch": now_ms,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    query = _parse_query(raw_query)
    if query:
        event["queryStringParameters"] = query
    if body:
        if is_text_content_type(headers.get("content-type")):
            event["body"] = body.decode("utf-8", "replace")
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


class LambdaContext:
    """The Lambda context object (the attributes Python handlers use)."""

    def __init__(self, function_name, version, memory_mb, invocation_id, deadline_ms):
        self.function_name = function_name
        self.function_version = str(version)
        self.invoked_function_arn = "arn:nimbus:lambda:local:%s:function:%s" % (ACCOUNT_ID, function_name)
        self.memory_limit_in_mb = str(memory_mb)
        self.aws_request_id = invocation_id
        self.log_group_name = "/nimbus/functions/" + function_name
        self.log_stream_name = str(version)
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _checked_header(name, value):
    name, value = _text(name), _text(value)
    # http.server writes header lines verbatim: refuse what would split or corrupt them.
    if not _TOKEN.match(name) or "\r" in value or "\n" in value:
        raise InvalidResponse("invalid header %r" % name)
    return name, value


def _json(value):
    try:
        return json.dumps(value).encode("utf-8")
    except (TypeError, ValueError) as err:
        raise InvalidResponse("the handler's result cannot be serialised as JSON: %s" % err) from None


def map_result(result):
    """Handler result -> (status, [(name, value)], body bytes). Same rules as the Node shim:
    None -> 204 (the handler completed and said nothing); str -> 200 text/plain; bytes -> 200
    application/octet-stream; a dict with statusCode -> that response (body base64-decoded when
    isBase64Encoded, cookies as set-cookie headers); anything else -> 200 JSON."""
    if result is None:
        return 204, [], b""
    if isinstance(result, str):
        return 200, [("content-type", "text/plain; charset=utf-8")], result.encode("utf-8")
    if isinstance(result, (bytes, bytearray)):
        return 200, [("content-type", "application/octet-stream")], bytes(result)
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, [("content-type", "application/json")], _json(result)

    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        status = -1
    if isinstance(result["statusCode"], bool) or not 100 <= status <= 599:
        raise InvalidResponse("statusCode must be an integer from 100 to 599, got %r" % (result["statusCode"],))
    headers = []
    for name, value in (result.get("headers") or {}).items():
        if value is not None:
            headers.append(_checked_header(name, value))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values or ():
            headers.append(_checked_header(name, value))
    for cookie in result.get("cookies") or ():
        headers.append(_checked_header("set-cookie", cookie))
    body = result.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        try:
            data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
        except ValueError as err:
            raise InvalidResponse("body is not valid base64: %s" % err) from None
    else:
        data = _json(body)
    return status, headers, data
