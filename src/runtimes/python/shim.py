"""Nimbus Python runtime shim: the program every Python function instance runs.

Serves the runtime protocol (docs/runtime-protocol.md) over HTTP/1.1 with keep-alive on the unix
socket named by NIMBUS_SOCKET (or, in a cluster pod, on TCP: NIMBUS_LISTEN_PORT and
NIMBUS_LISTEN_HOST, default every interface), loads the user's module on POST /__nimbus/init and calls its
Lambda-style handler(event, context) for every other request, one thread per connection.
Standard library only: it runs inside the sandbox, next to nothing but the user's code.

Usage: python3 -I -B shim.py --memory-mb N   (fd 3: control channel)
"""

import json
import os
import signal
import socketserver
import stat
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

# The helpers live next to this file; -I keeps this folder off sys.path, so add it briefly.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _nimbus_init as setup  # noqa: E402
import _nimbus_lambda as lam  # noqa: E402
import _nimbus_openfaas as faas  # noqa: E402
import _nimbus_package as package  # noqa: E402
import _nimbus_logs as logs  # noqa: E402

del sys.path[0]

INIT_PATH = "/__nimbus/init"
HEALTH_PATH = "/__nimbus/health"
INVOCATION_ID_HEADER = "x-nimbus-invocation-id"
DEADLINE_HEADER = "x-nimbus-deadline"
SHIM_ERROR_HEADER = "x-nimbus-shim-error"
# The CPU time (microseconds) of the thread serving the invocation, up to its response head.
CPU_TIME_HEADER = "x-nimbus-cpu-us"
CONTROL_FD = 3
MAX_LINE = 65537


class State:
    """Everything the request threads share."""

    def __init__(self):
        self.phase = "waiting"  # waiting -> loading -> ready | failed
        self.handler = None
        self.form = "lambda"  # or "openfaas"
        self.init = None
        self.meter_cpu = True  # init's meterCpu: whether invocations report their CPU time
        self.inflight = 0
        self.draining = False
        self.lock = threading.Condition()
        self.local_ids = 0


state = State()


class Handler(BaseHTTPRequestHandler):
    """One connection; the platform keeps it open (keep-alive) and sends requests one at a time."""

    protocol_version = "HTTP/1.1"
    timeout = None  # idle keep-alive connections stay until the platform closes them

    def version_string(self):
        return "nimbus-python"

    def address_string(self):
        return "platform"  # unix sockets have no client address

    def log_message(self, format, *args):  # noqa: A002 - the platform records requests itself
        pass

    def __getattr__(self, name):
        # Every method (GET, POST, PATCH, custom ones...) goes to the same dispatcher.
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(MAX_LINE)
                if not line:
                    raise ConnectionError("connection closed inside a chunked body")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(MAX_LINE)  # CRLF after the chunk
            while self.rfile.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def respond(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        if state.draining:
            self.send_header("Connection", "close")
        cpu_at_start = getattr(self, "cpu_at_start", None)
        if cpu_at_start is not None:
            self.cpu_at_start = None
            self.send_header(CPU_TIME_HEADER, str(int((time.thread_time() - cpu_at_start) * 1_000_000)))
        self.end_headers()
        if body and self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def respond_json(self, status, value, headers=()):
        self.respond(status, [("content-type", "application/json"), *headers], json.dumps(value).encode("utf-8"))

    def dispatch(self):
        path = self.path.split("?", 1)[0]
        is_init = path == INIT_PATH and self.command == "POST"
        invocation = path != HEALTH_PATH and not is_init and state.phase == "ready"
        # One thread serves one request at a time: its CPU clock is this invocation's alone. Off
        # when the platform keeps no records (init's meterCpu false): each read is a system call.
        self.cpu_at_start = time.thread_time() if invocation and state.meter_cpu else None
        if invocation:
            # Counted from the request line on, so SIGTERM waits for a body still being read.
            with state.lock:
                state.inflight += 1
        try:
            try:
                body = self.read_body()
            except (ValueError, ConnectionError):
                self.close_connection = True
                return self.respond_json(400, {"error": {"code": "BAD_REQUEST", "message": "unreadable request body"}})
            if invocation:
                return self.invoke(body)
            if path == HEALTH_PATH:
                return self.respond_json(200, {"inflight": state.inflight, "initialised": state.phase == "ready"})
            if is_init:
                return self.do_init(body)
            self.respond_json(503, {"error": {"code": "NOT_INITIALISED", "message": "The instance has not loaded a handler yet."}})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the platform gave up on this request
        finally:
            if invocation:
                with state.lock:
                    state.inflight -= 1
                    state.lock.notify_all()

    def do_init(self, body):
        with state.lock:
            if state.phase != "waiting":
                return self.respond_json(409, {"error": {"code": "ALREADY_INITIALISED", "message": "init was already requested (%s)" % state.phase}})
            state.phase = "loading"
        try:
            init = json.loads(body)
            if not all(isinstance(init.get(k), str) for k in ("codeDir", "entry", "function")):
                raise ValueError("init needs function, codeDir and entry strings")
        except (ValueError, AttributeError) as err:
            state.phase = "waiting"
            return self.respond_json(400, {"error": {"code": "INVALID_INIT", "message": str(err)}})
        started = time.perf_counter()
        if isinstance(init.get("package"), dict):
            try:
                init["codeDir"] = package.fetch_package(init["package"])
            except Exception as err:  # noqa: BLE001 - any failure to fetch is told to the platform
                state.phase = "failed"
                logs.log("init failed: PACKAGE_FETCH_FAILED: %s" % err)
                return self.respond_json(500, {"error": {"code": "PACKAGE_FETCH_FAILED", "message": "The function's code could not be fetched: %s" % err}})
        loaded, error = setup.load_handler(init)
        if error:
            state.phase = "failed"
            return self.respond_json(500, {"error": {"code": error[0], "message": error[1]}})
        state.meter_cpu = init.get("meterCpu") is not False
        (state.handler, state.form), state.init, state.phase = loaded, init, "ready"
        self.respond_json(200, {"form": state.form, "loadMs": round((time.perf_counter() - started) * 1000, 2)})

    def invoke(self, body):
        inv_id = self.headers.get(INVOCATION_ID_HEADER)
        if not inv_id:
            with state.lock:
                state.local_ids += 1
                inv_id = "local-%d-%d" % (os.getpid(), state.local_ids)
        token = logs.current_invocation.set(inv_id)
        try:
            status, headers, data = self.run_handler(inv_id, body)
            self.respond(status, headers, data)
        finally:
            logs.flush_invocation(inv_id)
            logs.current_invocation.reset(token)

    def run_handler(self, inv_id, body):
        init = state.init
        now_ms = time.time_ns() // 1_000_000
        try:
            deadline = float(self.headers.get(DEADLINE_HEADER) or 0)
        except ValueError:
            deadline = 0
        deadline = deadline or now_ms + float(init.get("timeoutMs") or 30000)
        if state.form == "openfaas":
            event, context, map_result = faas.Event(self.command, self.path, self.headers, body), faas.Context(), faas.map_result
        else:
            name = init["function"]
            context = lam.LambdaContext(name, init.get("version", 0), init.get("memoryMb", 0), inv_id, deadline)
            event = lam.build_event(self.command, self.path, self.request_version, self.headers.items(), body, inv_id, now_ms)
            map_result = lam.map_result
        try:
            result = state.handler(event, context)
            if hasattr(result, "__await__"):  # an async def handler: run it to completion
                import asyncio

                result = asyncio.run(result)
        except MemoryError as err:  # the platform recycles the instance on this code
            return self.failure("OUT_OF_MEMORY", err, inv_id)
        except BaseException as err:  # noqa: B036 - includes sys.exit() in user code
            return self.failure("HANDLER_ERROR", err, inv_id)
        try:
            return map_result(result)
        except (lam.InvalidResponse, faas.InvalidResponse) as err:
            return self.failure("INVALID_RESPONSE", err, inv_id)

    def failure(self, code, err, inv_id):
        import traceback

        logs.log("%s: %s" % (code, "".join(traceback.format_exception(err)).rstrip()), inv_id)
        kind = "InvalidResponse" if code == "INVALID_RESPONSE" else type(err).__name__
        payload = json.dumps({"error": {"type": kind, "message": str(err)}}).encode("utf-8")
        return 500, [("content-type", "application/json"), (SHIM_ERROR_HEADER, code)], payload


class ThreadPerConnection(socketserver.ThreadingMixIn):
    daemon_threads = True  # idle keep-alive connections must not hold the process at exit
    block_on_close = False
    # connect() on a unix socket fails at once (EAGAIN) when the backlog is full, unlike TCP:
    # the platform may open its whole pool of connections at the same moment.
    request_queue_size = 1024

    def process_request(self, request, client_address):
        try:
            super().process_request(request, client_address)
        except RuntimeError as err:  # "can't start new thread": out of memory or thread limit
            logs.log("cannot serve a new connection: %s" % err)
            self.shutdown_request(request)


class Server(ThreadPerConnection, socketserver.UnixStreamServer):
    """The server of a local instance, on its unix socket."""


class TcpServer(ThreadPerConnection, socketserver.TCPServer):
    """The same server on TCP, for a pod (which has its own network namespace and no shared socket)."""

    allow_reuse_address = True


class Drain(Exception):
    """Raised in the main thread by SIGTERM to leave the accept loop at once."""


def watch_control():
    """EOF on fd 3 means the platform is gone (even SIGKILLed): never outlive it."""
    try:
        while os.read(CONTROL_FD, 4096):
            pass
    except OSError:
        pass
    os._exit(0)


def on_sigterm(signum, frame):
    if state.draining:
        return
    state.draining = True
    raise Drain()


def has_control_channel():
    """Checked before this process opens any file: fd 3 must be the platform's socket (or pipe).
    Started by hand without it, fd 3 would soon be one of our own files."""
    try:
        mode = os.fstat(CONTROL_FD).st_mode
    except OSError:
        return False
    return stat.S_ISSOCK(mode) or stat.S_ISFIFO(mode)


def main(argv):
    setup.stay_undumpable()  # first: before the function's secrets reach this process
    control = has_control_channel()
    memory_mb = int(argv[argv.index("--memory-mb") + 1]) if "--memory-mb" in argv else 0
    setup.limit_malloc_arenas()
    if memory_mb > 0:
        setup.apply_memory_limit(memory_mb)
    logs.install()
    socket_path = os.environ.pop("NIMBUS_SOCKET", None)
    port = os.environ.pop("NIMBUS_LISTEN_PORT", "")
    host = os.environ.pop("NIMBUS_LISTEN_HOST", "") or "0.0.0.0"
    if socket_path:
        try:
            os.unlink(socket_path)  # a stale socket file would make bind fail
        except FileNotFoundError:
            pass
        server = Server(socket_path, Handler)
    elif port.isdigit():
        server = TcpServer((host, int(port)), Handler)
    else:
        logs.log("neither NIMBUS_SOCKET nor NIMBUS_LISTEN_PORT is set: nowhere to listen")
        return 2
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    if control:
        try:
            os.write(CONTROL_FD, b'{"type":"ready"}\n')
        except OSError:
            os._exit(0)  # EPIPE: the platform died while we started
        threading.stack_size(256 * 1024)  # the control thread only reads
        threading.Thread(target=watch_control, name="nimbus-control", daemon=True).start()
    else:
        logs.log("no control channel on fd %d; running without one" % CONTROL_FD)
    threading.stack_size(setup.THREAD_STACK_MB * 1024 * 1024)
    try:
        while True:
            try:
                conn, _ = server.socket.accept()
            except OSError as err:  # EMFILE and friends: keep serving the connections we have
                logs.log("accept failed: %s" % err)
                time.sleep(0.05)
                continue
            server.process_request(conn, "platform")
    except Drain:
        pass
    server.socket.close()  # stop accepting; in-flight requests finish on their own threads
    with state.lock:
        while state.inflight > 0:
            state.lock.wait()
    logs.flush_all()
    return 0


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except Drain:
        code = 0  # SIGTERM before the accept loop: nothing in flight
    except BaseException as err:  # noqa: B036
        import traceback

        logs.log("shim crashed: " + "".join(traceback.format_exception(err)).rstrip())
        code = 1
    logs.flush_all()
    os._exit(code)  # daemon threads may sit in recv() on idle connections: do not wait for them
