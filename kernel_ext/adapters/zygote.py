"""The kernel zygote: a process that imports IPython's kernel once, then forks ready kernels.

Run as ``python -m kernel_ext.adapters.zygote``. Each request (one JSON line on stdin) names a
connection file, a FIFO and the kernel's command-line arguments; the zygote forks a child that
builds the whole kernel (sockets bound, shell ready) and then waits on the FIFO for the run's
working folder and environment before it starts serving. So a kernel costs a fork instead of an
interpreter start and ~0.5 s of imports, and it can be made before anyone needs it, while still
running each notebook in a fresh process with its own folder (the warm-kernel pool in
:mod:`kernels` drives this).

A forked kernel must be indistinguishable, from inside the notebook, from one jupyter_client starts
with ``python -m ipykernel_launcher -f FILE``: same ``sys.path``, ``sys.argv``, session, environment
(what jupyter_client puts in it, and what the kernel's own start-up adds: ``MPLBACKEND`` for inline
charts, the terminal variables), working folder. :func:`_settle` redoes, once the run's folder and
environment are known, every start-up step that read them; tests/adapters/test_zygote_fidelity.py
compares a forked kernel's state and outputs with papermill's own start.

The zygote dies with its parent, and kernels with the zygote (Linux ``PR_SET_PDEATHSIG``), so a
killed runner leaves no kernel behind.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "IPython", "jupyter_client.session")
# ipykernel's own default (ipykernel 7.x kernelapp.py, IPKernelApp.init_gui_pylab): a kernel whose
# environment has no MPLBACKEND draws matplotlib figures inline, as display data in the notebook
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
_STARTED_WITH = dict(os.environ)  # the zygote's environment before any kernel import changed it


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


def _drop_cwd_from_path() -> None:
    """What ``ipykernel_launcher`` does first: the start folder leaves ``sys.path`` (IPython's
    ``init_path`` puts ``''`` back, before site-packages, so the run's folder is importable)."""
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]


def _launcher_argv(argv: list[str]) -> list[str]:
    """``sys.argv`` of ``python -m ipykernel_launcher ARGV``: the launcher's path, then ARGV."""
    import importlib.util

    spec = importlib.util.find_spec("ipykernel_launcher")
    return [spec.origin if spec and spec.origin else "-m", *argv]


def _fresh_thread_names() -> None:
    """Unnamed threads are numbered from Thread-1 as in a new interpreter (CPython's threading
    module counts them in ``_counter``; the zygote's imports may have used some numbers)."""
    import itertools
    import threading

    if hasattr(threading, "_counter"):
        threading._counter = itertools.count(1).__next__  # type: ignore[attr-defined]


def _kernel(request: dict[str, Any]) -> None:
    """In the forked child: build the kernel, wait for its folder, then serve until shut down."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    die_with_parent()
    os.setsid()  # a session (and process group) of its own, as jupyter_client starts kernels (start_new_session)
    quiet = os.open(os.devnull, os.O_RDWR)  # stdin/stdout are the zygote's protocol; kernel chatter is noise
    for fd in (0, 1, 2):
        os.dup2(quiet, fd)
    os.close(quiet)
    _fresh_thread_names()
    for name in [m for m in sys.modules if m == "kernel_ext" or m.startswith("kernel_ext.")]:
        del sys.modules[name]  # a notebook's `import kernel_ext` finds what a plain kernel would
    argv = ["-f", request["connection_file"], *request.get("argv", [])]
    sys.argv = _launcher_argv(argv)
    sys.orig_argv = [sys.executable, "-m", "ipykernel_launcher", *argv]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.parent_handle = os.getppid()  # what JPY_PARENT_PID gives a launched kernel: a poller on its parent
    app.initialize(argv)
    made = {k: v for k, v in os.environ.items() if _STARTED_WITH.get(k) != v}  # what the kernel's start-up set
    with open(request["fifo"], encoding="utf-8") as fifo:  # blocks until the run is known
        go = json.loads(fifo.readline() or "{}")
    if not go:
        os._exit(0)  # the pool was closed before this kernel was used
    _settle(app, go["env"], go["cwd"], made)
    app.start()
    os._exit(0)


def _settle(app: Any, env: dict[str, str], cwd: str, made: dict[str, str]) -> None:
    """Give the kernel the run's environment and folder, and redo what its start-up derived from them
    (ipykernel 7 / IPython 9; each step names the code it mirrors)."""
    os.environ.clear()
    os.environ.update(env)
    for key, value in made.items():  # import-time and start-up settings (PYDEVD_USE_FRAME_EVAL, ...)
        if key not in env or env[key] == _STARTED_WITH.get(key):
            os.environ[key] = value  # ...unless the run sets that variable itself, differently
    shell = app.shell
    if shell is not None:
        shell.init_environment()  # ZMQInteractiveShell.init_environment: TERM, CLICOLOR, PAGER, ... (unconditional)
    if not os.environ.get("MPLBACKEND"):  # IPKernelApp.init_gui_pylab
        os.environ["MPLBACKEND"] = INLINE_BACKEND
    os.chdir(cwd)
    if shell is not None:
        shell.starting_dir = os.getcwd()  # InteractiveShell.init_instance_attrs
        dir_hist = shell.history_manager.dir_hist  # HistoryManager.reset: the shell's _dh (Path or str by version)
        dir_hist[:] = [type(dir_hist[0])(os.getcwd()) if dir_hist else Path.cwd()]
        session = os.environ.get("JPY_SESSION_NAME")  # IPythonKernel.__init__: __session__ from the environment
        if session:
            shell.user_ns["__session__"] = session
        else:
            shell.user_ns.pop("__session__", None)


def main() -> None:
    die_with_parent()
    _drop_cwd_from_path()
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
