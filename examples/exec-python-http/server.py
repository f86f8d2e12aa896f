"""A program that serves HTTP on $PORT (the exec runtime's http protocol): any web server in any
language works the same way. Only Python's standard library is used."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        self.answer(200, {"path": url.path, "query": parse_qs(url.query), "served_by": "python http.server"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer(201, {"echo": body.decode("utf-8", "replace")})

    def answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 - one line per request on stderr, in the logs
        print("%s %s" % (self.command, self.path), flush=True)


port = int(os.environ["PORT"])
print("listening on port %d" % port, flush=True)
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
