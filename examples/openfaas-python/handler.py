"""An OpenFaaS python3-http template handler, unchanged."""
import json


def handle(event, context):
    if event.method != "POST":
        return {"statusCode": 200, "body": {"hint": "POST a JSON body with a \"name\""}}
    try:
        name = json.loads(event.body)["name"]
    except (ValueError, KeyError, TypeError):
        return {"statusCode": 400, "body": "a JSON body with a \"name\", please"}
    return {
        "statusCode": 201,
        "body": {"greeting": "hello, %s" % name, "lang": event.query.get("lang")},
        "headers": {"x-served-by": context.hostname and "nimbus"},
    }
