"""Fetches a function's built code into a pod (init's "package"): a pod shares no filesystem with
the platform, so the code comes over HTTP, once, with a one-time token, and is checked by sha256."""

import base64
import hashlib
import json
import os
import tempfile
import urllib.request

FETCH_TIMEOUT_S = 10


def fetch_package(source):
    """Downloads, checks and writes the package; returns the folder it is in."""
    request = urllib.request.Request(source["url"], headers={"Authorization": "Bearer " + source["token"]})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as res:
        body = res.read()
    digest = hashlib.sha256(body).hexdigest()
    if digest != source["sha256"]:
        raise ValueError("the function's code arrived with sha256 %s, not %s" % (digest, source["sha256"]))
    folder = tempfile.mkdtemp(prefix="nimbus-code-")
    for entry in json.loads(body)["files"]:
        relative = os.path.normpath(entry["path"])
        # The platform made the bundle, but a path may never leave the folder.
        if os.path.isabs(relative) or relative == ".." or relative.startswith(".." + os.sep):
            raise ValueError("unsafe path in the function's code: %s" % entry["path"])
        target = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            out.write(base64.b64decode(entry["data"]))
        os.chmod(target, entry["mode"] & 0o755)
    return folder
