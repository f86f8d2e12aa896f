"""Log capture for the Nimbus Python shim.

sys.stdout and sys.stderr are replaced by writers that turn every line into one JSON LogLine
({"id", "s", "m", "t"}) on the original file descriptor, tagged with the invocation id current in
the writing thread. Several invocations run at once (one thread each), so partial lines are kept
per (stream, invocation) until their newline arrives.
"""

import contextvars
import io
import json
import os
import threading
import time

#: Id of the invocation whose code runs in this thread (None outside any invocation).
current_invocation = contextvars.ContextVar("nimbus_invocation", default=None)

#: Longest line emitted as one LogLine; longer (or never-ending) lines are split.
MAX_LINE_CHARS = 16 * 1024

# One lock for both streams: lines from different threads must not interleave on a fd.
_lock = threading.Lock()


def _write_fd(fd, data):
    """os.write may write less than asked (pipes); loop until everything is out."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BrokenPipeError:
            return  # the platform is going away; fd 3 will tell us
        view = view[written:]


def _emit(fd, stream, inv_id, text):
    line = json.dumps({"id": inv_id, "s": stream, "m": text, "t": time.time_ns() // 1_000_000}, ensure_ascii=False, separators=(",", ":"))
    # backslashreplace turns a lone surrogate into a \udXXX escape, which is still valid JSON.
    _write_fd(fd, (line + "\n").encode("utf-8", "backslashreplace"))


def _emit_split(fd, stream, inv_id, text):
    while len(text) > MAX_LINE_CHARS:
        _emit(fd, stream, inv_id, text[:MAX_LINE_CHARS])
        text = text[MAX_LINE_CHARS:]
    _emit(fd, stream, inv_id, text)


class _BytesView:
    """`sys.stdout.buffer` for code that writes bytes."""

    def __init__(self, owner):
        self._owner = owner

    def write(self, data):
        self._owner.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        pass


class LineWriter(io.TextIOBase):
    """A text stream that emits JSON LogLines on `fd`."""

    def __init__(self, stream, fd):
        super().__init__()
        self._stream = stream
        self._fd = fd
        self._pending = {}
        self.buffer = _BytesView(self)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "replace"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        # faulthandler and friends want a real fd; what they write there is not tagged.
        return self._fd

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        inv_id = current_invocation.get()
        with _lock:
            lines = (self._pending.pop(inv_id, "") + text).split("\n")
            rest = lines.pop()
            for line in lines:
                _emit_split(self._fd, self._stream, inv_id, line[:-1] if line.endswith("\r") else line)
            while len(rest) > MAX_LINE_CHARS:
                _emit(self._fd, self._stream, inv_id, rest[:MAX_LINE_CHARS])
                rest = rest[MAX_LINE_CHARS:]
            if rest:
                self._pending[inv_id] = rest
        return len(text)

    def flush(self):
        # Complete lines are written at once; a partial line waits for its newline or the end
        # of its invocation (flush_invocation), so print(..., end="") pieces stay one line.
        pass

    def flush_invocation(self, inv_id):
        with _lock:
            rest = self._pending.pop(inv_id, None)
            if rest:
                _emit_split(self._fd, self._stream, inv_id, rest)

    def flush_all(self):
        for inv_id in list(self._pending):
            self.flush_invocation(inv_id)


_writers = []


def install():
    """Replaces sys.stdout / sys.stderr. Returns nothing; use log() for the shim's own lines."""
    import sys

    out = LineWriter("out", sys.__stdout__.fileno() if sys.__stdout__ else 1)
    err = LineWriter("err", sys.__stderr__.fileno() if sys.__stderr__ else 2)
    _writers[:] = [out, err]
    sys.stdout = out
    sys.stderr = err


def flush_invocation(inv_id):
    """Emits what an invocation left without a final newline (called when it ends)."""
    for writer in _writers:
        writer.flush_invocation(inv_id)


def flush_all():
    for writer in _writers:
        writer.flush_all()


def log(message, inv_id=None, stream="err"):
    """The shim's own diagnostics, one LogLine per line, bypassing the partial-line buffers."""
    fd = 2 if stream == "err" else 1
    with _lock:
        for line in str(message).rstrip("\n").split("\n"):
            _emit_split(fd, stream, inv_id, line)
