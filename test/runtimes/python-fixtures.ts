/** User code for the Python shim tests. */

/** Lambda-style routes: event echo, response mappings, errors, logs, slow work, memory. */
export const PY_ROUTES = `
import base64
import os
import sys
import time

print("module loaded")

def handler(event, context):
    path = event["rawPath"]
    if path == "/event":
        return {
            "event": event,
            "context": {
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "aws_request_id": context.aws_request_id,
                "remaining": context.get_remaining_time_in_millis(),
            },
            "env": os.environ.get("GREETING"),
            "cwd": os.getcwd(),
        }
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": event.get("body", ""), "isBase64Encoded": event["isBase64Encoded"]}
    if path == "/string":
        return "plain text"
    if path == "/dict":
        return {"a": 1, "nested": [True, None]}
    if path == "/list":
        return [1, 2, 3]
    if path == "/none":
        return None
    if path == "/status":
        return {
            "statusCode": 202,
            "headers": {"x-one": "1", "content-type": "text/plain"},
            "multiValueHeaders": {"x-multi": ["a", "b"]},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": base64.b64encode(b"decoded body").decode(),
            "isBase64Encoded": True,
        }
    if path == "/throw":
        raise ValueError("python boom")
    if path == "/bad-status":
        return {"statusCode": "abc"}
    if path == "/logs":
        name = event["queryStringParameters"]["name"]
        print("begin " + name)
        time.sleep(0.03)
        print("partial " + name, end="")
        time.sleep(0.03)
        print(" end")
        print("err " + name, file=sys.stderr)
        sys.stdout.write("tail " + name)
        return "ok"
    if path == "/long-line":
        print("x" * 40000)
        return "ok"
    if path == "/slow":
        print("started")
        time.sleep(0.3)
        return "done"
    if path == "/dumpable":
        import ctypes
        return {"dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)}  # PR_GET_DUMPABLE
    if path == "/memory":
        hog = bytearray(2048 * 1024 * 1024)
        return len(hog)
    return {"statusCode": 404, "body": "no route"}

def other(event, context):
    return "named export"

async def async_handler(event, context):
    return "from a coroutine"
`;
