"""Process set-up and user-code loading for the Nimbus Python shim: memory limit, malloc tuning,
and init (environment, working directory, module, handler lookup)."""

import os
import sys

import _nimbus_logs as logs

#: Stack reserved per connection thread. Enough for the default recursion limit through C code
#: (repr, json); smaller than the 8 MB default because RLIMIT_AS counts reserved stacks.
THREAD_STACK_MB = 4
#: Connection threads the address-space limit leaves room for (the platform's default python
#: concurrency is 8; pooled connections can exceed it a little).
THREADS_ALLOWED = 32
#: Address space of the interpreter with the shim and the standard library loaded (measured
#: ~27 MB VmSize with one malloc arena), with room for the shared libraries of the user's imports.
BASE_AS_MB = 96


def apply_memory_limit(memory_mb):
    """RLIMIT_AS is a coarse backstop (cgroups are the real limit, applied by the sandbox); it
    counts reserved address space, so leave room for the interpreter and thread stacks."""
    import resource

    limit = (max(memory_mb, 128) + BASE_AS_MB + THREADS_ALLOWED * THREAD_STACK_MB) * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def stay_undumpable():
    """PR_SET_DUMPABLE 0: no other process of the instance's uid (a child the function starts, or
    anything else running as that uid) can open this process's /proc/<pid>/mem or attach to it,
    where the function's secrets sit; only a process with CAP_SYS_PTRACE over the instance can.
    Children the function execs are dumpable again (exec resets it), this process stays not.
    Answers whether it took effect (not on a libc without prctl)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(4, 0, 0, 0, 0) == 0 and libc.prctl(3, 0, 0, 0, 0) == 0  # SET, then GET_DUMPABLE
    except (OSError, AttributeError):
        return False


def limit_malloc_arenas():
    """glibc reserves a 64 MB arena per thread that allocates; under RLIMIT_AS that address space
    would run out long before the memory does. Python threads take turns under the GIL anyway, so
    one arena costs no real contention."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, 1)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


def _relative(path, code_dir):
    """`path` relative to the code directory when it is inside it: the name its author knows."""
    prefix = code_dir.rstrip("/") + "/"
    return path[len(prefix):] if path and path.startswith(prefix) else path


def syntax_error(err, code_dir):
    """`invalid syntax (lib/util.py, line 4)`: str(SyntaxError) names only the file's base name."""
    if not err.filename or not err.lineno:
        return "SyntaxError: %s" % err
    return "SyntaxError: %s (%s, line %d)" % (err.msg, _relative(err.filename, code_dir), err.lineno)


def user_location(err, code_dir):
    """`lib/db.py:12`: the innermost frame of the traceback in the user's code, or None."""
    import traceback

    prefix = code_dir.rstrip("/") + "/"
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith(prefix)]
    return "%s:%d" % (_relative(frames[-1].filename, code_dir), frames[-1].lineno) if frames else None


def load_handler(init):
    """Loads the module file and returns ((handler, form), None) or (None, (code, message)).

    The form follows the function's name, as each platform names it: ``handle`` is the OpenFaaS
    python3-http template's ``handle(event, context)`` ("openfaas"); any other name (``handler``,
    ``lambda_handler``) is Lambda style ("lambda").
    """
    import importlib.util

    code_dir, entry = init["codeDir"], init["entry"]
    export = init.get("export") or "handler"
    os.environ.update({str(k): str(v) for k, v in (init.get("env") or {}).items()})
    try:
        os.chdir(code_dir)
    except OSError as err:
        return None, ("HANDLER_NOT_FOUND", "The code directory cannot be entered: %s" % err)
    sys.path.insert(0, code_dir)
    path = os.path.join(code_dir, entry)
    if not os.path.isfile(path):
        return None, ("HANDLER_NOT_FOUND", "Entry file %s does not exist in the function's code." % entry)
    name = entry[:-3] if entry.endswith(".py") else entry
    name = name.replace("/", ".").strip(".") or "handler"
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError("%s is not a Python module" % entry)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except BaseException as err:  # noqa: B036 - SyntaxError, ImportError, even SystemExit at import
        import traceback

        sys.modules.pop(name, None)
        logs.log("init failed: " + "".join(traceback.format_exception(err)))
        # A syntax error is the code's fault before it runs: deploys refuse it (the message names file and line).
        if isinstance(err, SyntaxError):
            return None, ("HANDLER_SYNTAX_ERROR", "Loading %s failed: %s" % (entry, syntax_error(err, code_dir)))
        where = user_location(err, code_dir)
        return None, ("HANDLER_LOAD_FAILED", "Loading %s failed: %s: %s%s" % (entry, type(err).__name__, err, " (at %s)" % where if where else ""))
    fn = getattr(module, export, None)
    if not callable(fn):
        return None, ("HANDLER_NOT_FOUND", "%s has no function named %r." % (entry, export))
    return (fn, "openfaas" if export == "handle" else "lambda"), None
