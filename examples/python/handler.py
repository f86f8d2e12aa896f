"""A Python function in the AWS Lambda style.

The event is an API Gateway HTTP API (payload format 2.0) event and the answer uses the same
response format, so a function written for Lambda runs on Nimbus unmodified. Standard library
only: the instance needs nothing installed.
"""

import base64
import json


def handler(event, context):
    """Greet the caller and describe the request it made."""
    params = event.get("queryStringParameters") or {}
    name = params.get("name", "world")
    body = event.get("body") or ""
    # Binary bodies arrive base64-encoded; count the real bytes, not the encoded text.
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(
            {
                "message": f"hello, {name}",
                "path": event.get("rawPath", "/"),
                "query": params,
                "bodyLength": len(raw),
                "requestId": getattr(context, "aws_request_id", None),
            }
        ),
    }
