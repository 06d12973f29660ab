"""Kernels for runs: started ahead of need by a zygote (see :mod:`zygote`), or the usual way.

:class:`KernelPool` keeps ``ahead`` kernels forked and initialised while notebooks execute, so
start-up overlaps execution; each run still gets a fresh kernel process, in its own folder. The
pool forks only where that is exactly equivalent to a normal start (:func:`pool_can_serve`): a
kernel spec that runs this very interpreter's ``ipykernel_launcher``, on Linux. For anything else
:meth:`KernelPool.manager` gives a :class:`PromptKernelManager`, which starts the kernel as
jupyter_client does (:mod:`kernel_start`); the forked kernel, as jupyter_client sees it, is in
:mod:`forked_kernel`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from jupyter_client.connect import write_connection_file
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

from ..errors import NbopsError
from .forked_kernel import (ForkedKernelProcess, PooledKernelManager, PreparedKernel, ZygoteProvisioner,
                            nbclient_arguments, process_alive)
from .kernel_start import PromptKernelClient, PromptKernelManager, kernel_spec, missing_kernel

__all__ = ["KernelPool", "KernelPools", "pool_can_serve",
           # where they now live: forked_kernel and kernel_start (importable from here as before)
           "ForkedKernelProcess", "PooledKernelManager", "PreparedKernel", "ZygoteProvisioner", "nbclient_arguments",
           "PromptKernelClient", "PromptKernelManager", "kernel_spec", "missing_kernel"]


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
            while not process_alive(prepared.pid):  # died while waiting (killed, out of memory): take a fresh one
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
