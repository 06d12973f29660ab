"""Kernels for runs: started ahead of need by a zygote (see :mod:`zygote`), or the usual way.

:class:`KernelPool` keeps ``ahead`` kernels forked and initialised while notebooks execute, so
start-up overlaps execution; each run still gets a fresh kernel process, in its own folder. The
pool forks only where that is exactly equivalent to a normal start (:func:`pool_can_serve`): a
kernel spec that runs this very interpreter's ``ipykernel_launcher``, on Linux. For anything else
:meth:`KernelPool.manager` gives a :class:`PromptKernelManager`, which starts the kernel as
jupyter_client does.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.kernelspec import KernelSpec, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from ..errors import NbopsError


def kernel_spec(name: str) -> KernelSpec:
    """The named kernel spec, or a clear error saying how to install it."""
    from jupyter_client.kernelspec import KernelSpecManager

    try:
        return KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise missing_kernel(name) from None


def missing_kernel(name: str, language: str | None = None, notebook: str | None = None) -> NbopsError:
    """The error for a kernel spec that is not installed, naming it (and whose kernel it is)."""
    whose = f" (the {language} kernel of {notebook})" if language and notebook else \
        f" (the {language} kernel)" if language else ""
    if (language or "python").lower() == "python":
        hint = (f"install it with: python -m ipykernel install --user --name {name} "
                "(or set [tool.nbops] kernel to one of: jupyter kernelspec list)")
    else:
        hint = f"install the {language} kernel under the name {name!r}; `jupyter kernelspec list` shows those installed"
    return NbopsError(f"no Jupyter kernel named {name!r} is installed{whose}", hint=hint)


class PromptKernelClient(AsyncKernelClient):  # type: ignore[misc]
    """Ready as soon as the kernel has answered ``kernel_info`` and its IOPub status for that
    request has arrived, instead of jupyter_client's wait for 0.2 s of IOPub silence (a fixed
    0.2 s per kernel, most of a short run)."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else 60.0)
        while time.monotonic() < deadline:
            msg_id = self.kernel_info()
            if await self._reply(self.shell_channel, msg_id, "kernel_info_reply", deadline) is not None:
                if await self._reply(self.iopub_channel, msg_id, "status", min(deadline, time.monotonic() + 1.0),
                                     lambda m: m["content"].get("execution_state") == "idle") is not None:
                    return  # IOPub is connected, and everything this request caused is drained
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
        raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    @staticmethod
    async def _reply(channel: Any, msg_id: str, msg_type: str, deadline: float,
                     accept: Any = None) -> dict[str, Any] | None:
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await channel.get_msg(timeout=min(left, 1.0))
            except Empty:
                return None
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == msg_type \
                    and (accept is None or accept(msg)):
                return msg
        return None


class PromptKernelManager(AsyncKernelManager):  # type: ignore[misc]
    """An AsyncKernelManager whose clients are :class:`PromptKernelClient`."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.client_factory = PromptKernelClient


class ForkedKernelProcess:
    """The part of ``subprocess.Popen`` jupyter_client uses, for a kernel the zygote forked (it
    is the zygote's child, not ours, so liveness is read from /proc instead of waitpid)."""

    stdin = stdout = stderr = None  # the zygote's child: no pipes of ours

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not _alive(self.pid):
            self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def nbclient_arguments(kernel_name: str) -> tuple[str, ...]:
    """The arguments nbclient gives the kernel: ``--HistoryManager.hist_file=:memory:`` (its
    ``ipython_hist_file`` default) when jupyter_client calls it an IPython kernel, i.e. by name
    (nbclient 0.11 client.py, async_start_new_kernel; jupyter_client 8 manager.py, ``ipykernel``).
    Prepared kernels are made with them; a start that asks for others is refused rather than
    served by a kernel that differs."""
    return ("--HistoryManager.hist_file=:memory:",) if kernel_name in {"python", "python2", "python3"} else ()


@dataclass
class PreparedKernel:
    pid: int
    connection_file: str
    fifo: str
    arguments: tuple[str, ...] = ()

    def go(self, cwd: str, env: dict[str, str], timeout: float = 60.0) -> None:
        """Hand the kernel its folder and environment; it starts serving. Opening the FIFO waits
        for the kernel to be initialised; a kernel that died meanwhile is an error, not a hang."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as exc:  # ENXIO: the kernel is not reading yet
                if not _alive(self.pid) or time.monotonic() > deadline:
                    raise RuntimeError(f"the prepared kernel {self.pid} stopped before it was ready") from exc
                time.sleep(0.005)
        with os.fdopen(fd, "w", encoding="utf-8") as fifo:
            fifo.write(json.dumps({"cwd": cwd, "env": env}) + "\n")

    def discard(self) -> None:
        ForkedKernelProcess(self.pid).kill()
        for path in (self.connection_file, self.fifo):
            Path(path).unlink(missing_ok=True)


class ZygoteProvisioner(LocalProvisioner):  # type: ignore[misc]
    """Takes a prepared kernel instead of launching a process."""

    prepared: PreparedKernel | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        assert self.prepared is not None
        km: Any = self.parent
        km.load_connection_file(self.prepared.connection_file)
        self.connection_info = km.get_connection_info()
        arguments = tuple(kwargs.pop("extra_arguments", None) or ())
        if arguments != self.prepared.arguments:
            raise RuntimeError(f"the prepared kernel was started with {list(self.prepared.arguments)}, "
                               f"not the {list(arguments)} this run asks for")
        return await super(LocalProvisioner, self).pre_launch(cmd=["(prepared kernel)"], **kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        assert self.prepared is not None
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env = {k: str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launch_kernel adds (launcher.py, POSIX)
        self.prepared.go(cwd, env)
        self.process = ForkedKernelProcess(self.prepared.pid)  # type: ignore[assignment]
        self.pid = self.pgid = self.prepared.pid  # the kernel leads its own process group
        self.cwd = cwd
        return self.connection_info

    async def cleanup(self, restart: bool = False) -> None:
        if self.prepared is not None:
            for path in (self.prepared.connection_file, self.prepared.fifo):
                Path(path).unlink(missing_ok=True)
        await super().cleanup(restart)


class PooledKernelManager(PromptKernelManager):  # type: ignore[misc]
    """A kernel manager whose kernel comes from the pool (shut down and cleaned up as usual)."""

    def set_prepared(self, prepared: PreparedKernel) -> None:
        self.kernel_id = str(uuid.uuid4())
        provisioner = ZygoteProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        provisioner.prepared = prepared
        self.provisioner = provisioner


class KernelPool:
    """Fresh kernels of one kernel spec: forked ahead of need by a zygote process where the spec
    allows it, else started the usual way."""

    def __init__(self, kernel_name: str, ahead: int = 1):
        self.kernel_name = kernel_name
        self.ahead = max(1, ahead)
        try:
            self.spec: KernelSpec | None = kernel_spec(kernel_name)
        except NbopsError as exc:  # reported when a kernel is needed, after the flow's own problems
            self.spec, self.missing = None, exc
        self.usable = self.spec is not None and pool_can_serve(self.spec)
        self._ready: deque[PreparedKernel] = deque()
        # parallel steps ask for kernels from their own threads: one request/reply with the zygote at a
        # time, or a thread could read the pid meant for another thread's kernel (and later kill it)
        self._lock = threading.Lock()
        self._folder = tempfile.mkdtemp(prefix="nbops-kernels-")
        self._zygote: subprocess.Popen[str] | None = None
        if self.usable:  # its imports overlap whatever the caller does before the first kernel
            self._start_zygote()

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def require(self, language: str | None = None, notebook: str | None = None) -> None:
        """Fail now, clearly, if the kernel spec is missing (naming the notebook it is for, if given)."""
        if self.spec is None:
            raise missing_kernel(self.kernel_name, language, notebook) if language else self.missing

    def manager(self) -> AsyncKernelManager:
        """A manager for a fresh kernel; with the pool, one already forked and initialised."""
        self.require()
        if not self.usable:
            return PromptKernelManager(kernel_name=self.kernel_name)
        with self._lock:
            self._fill()
            prepared = self._ready.popleft()
            while not _alive(prepared.pid):  # died while waiting (killed, out of memory): take a fresh one
                prepared.discard()
                self._fill()
                prepared = self._ready.popleft()
            self._fill()  # the next one initialises while this one runs
        km = PooledKernelManager(kernel_name=self.kernel_name)
        km.set_prepared(prepared)
        return km

    def _fill(self) -> None:
        while len(self._ready) < self.ahead:
            self._ready.append(self._fork())

    def _start_zygote(self) -> None:
        env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}  # quiets a debugger warning at import
        self._zygote = subprocess.Popen([sys.executable, "-m", "kernel_ext.adapters.zygote"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1, env=env)

    def _fork(self) -> PreparedKernel:
        if self._zygote is None or self._zygote.poll() is not None:
            self._start_zygote()
        name = uuid.uuid4().hex
        # IPC sockets in our private folder: no TCP port to race other processes for, no network exposure
        connection_file, _ = write_connection_file(os.path.join(self._folder, f"{name}.json"), transport="ipc",
                                                   ip=os.path.join(self._folder, f"{name}.sock"))
        fifo = os.path.join(self._folder, f"{name}.fifo")
        os.mkfifo(fifo, 0o600)
        zygote = self._zygote
        assert zygote is not None and zygote.stdin is not None and zygote.stdout is not None
        arguments = nbclient_arguments(self.kernel_name)
        request = {"connection_file": connection_file, "fifo": fifo, "argv": list(arguments)}
        zygote.stdin.write(json.dumps(request) + "\n")
        reply = zygote.stdout.readline()
        if not reply:
            raise NbopsError("the kernel zygote stopped unexpectedly", hint="run with -v to see why")
        return PreparedKernel(json.loads(reply)["pid"], connection_file, fifo, arguments)

    def close(self) -> None:
        """Discard kernels nobody used and stop the zygote."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        while self._ready:
            self._ready.popleft().discard()
        if self._zygote is not None:
            self._zygote.kill()
            self._zygote.wait()
            self._zygote = None
        for leftover in Path(self._folder).glob("*"):
            leftover.unlink(missing_ok=True)
        Path(self._folder).rmdir()


class KernelPools:
    """A :class:`KernelPool` per kernel spec name, each made when first asked for (those named in
    ``warm`` at once, so their zygotes start while the caller does other work): the steps of one
    flow may run in different kernels."""

    def __init__(self, warm: Iterable[str] = (), ahead: int = 1):
        self._ahead = ahead
        self._pools: dict[str, KernelPool] = {}
        self._lock = threading.Lock()  # parallel steps ask from their own threads
        for name in warm:
            self.pool(name)

    def __enter__(self) -> KernelPools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ahead(self) -> int:
        return self._ahead

    @ahead.setter
    def ahead(self, count: int) -> None:
        """How many kernels each pool keeps ready (the most steps that run at once)."""
        self._ahead = count
        with self._lock:
            for pool in self._pools.values():
                pool.ahead = max(1, count)

    def pool(self, name: str) -> KernelPool:
        with self._lock:
            pool = self._pools.get(name)
            if pool is None:
                pool = self._pools[name] = KernelPool(name, self._ahead)
            return pool

    def require(self, name: str, language: str | None = None, notebook: str | None = None) -> None:
        self.pool(name).require(language, notebook)

    def manager(self, name: str) -> AsyncKernelManager:
        return self.pool(name).manager()

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


def pool_can_serve(spec: KernelSpec) -> bool:
    """Forking from our zygote equals starting the spec only if the spec runs this interpreter's
    ipykernel with no extra environment, on Linux (where kernels can be tied to their parent)."""
    argv = list(spec.argv)
    if not sys.platform.startswith("linux") or spec.env or len(argv) < 3 or argv[1:3] != ["-m", "ipykernel_launcher"]:
        return False
    executable = argv[0]
    same = executable in ("python", "python3") or os.path.realpath(executable) == os.path.realpath(sys.executable)
    return same and set(argv[3:]) <= {"-f", "{connection_file}"}
