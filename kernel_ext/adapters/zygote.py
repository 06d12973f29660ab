"""The kernel zygote: a process that imports IPython's kernel once, then forks ready kernels.

Run as ``python -m kernel_ext.adapters.zygote``. Each request (one JSON line on stdin) names a
connection file and a FIFO; the zygote forks a child that builds the whole kernel (sockets bound,
shell ready) and then waits on the FIFO for the run's working folder and environment before it
starts serving. So a kernel costs a fork instead of an interpreter start and ~0.5 s of imports,
and it can be made before anyone needs it, while still running each notebook in a fresh process
with its own folder (the warm-kernel pool in :mod:`kernels` drives this).

The zygote dies with its parent, and kernels with the zygote (Linux ``PR_SET_PDEATHSIG``), so a
killed runner leaves no kernel behind.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from typing import Any

PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "IPython", "jupyter_client.session")


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits (no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _reap(*_: Any) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kernel(request: dict[str, Any]) -> None:
    """In the forked child: build the kernel, wait for its folder, then serve until shut down."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    die_with_parent()
    os.setpgid(0, 0)  # its own process group, as jupyter_client gives kernels it starts
    quiet = os.open(os.devnull, os.O_RDWR)  # stdin/stdout are the zygote's protocol; kernel chatter is noise
    for fd in (0, 1, 2):
        os.dup2(quiet, fd)
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", request["connection_file"], "--IPKernelApp.quiet=True", *request.get("argv", [])])
    with open(request["fifo"], encoding="utf-8") as fifo:  # blocks until the run is known
        go = json.loads(fifo.readline() or "{}")
    if not go:
        os._exit(0)  # the pool was closed before this kernel was used
    os.environ.clear()
    os.environ.update(go["env"])
    os.chdir(go["cwd"])
    sys.path[0] = go["cwd"]  # what `python -m ipykernel_launcher` started in that folder would have
    app.start()
    os._exit(0)


def main() -> None:
    die_with_parent()
    for module in PRELOAD:
        __import__(module)
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _kernel(request)
            finally:
                os._exit(1)
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
