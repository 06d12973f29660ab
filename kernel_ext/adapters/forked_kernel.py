"""A kernel the zygote (:mod:`zygote`) forked, as jupyter_client sees it: the process stand-in,
the arguments it was made with, the prepared kernel waiting for its folder and environment, and
the provisioner and kernel manager that take it instead of launching a process.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

from .kernel_start import PromptKernelManager


class ForkedKernelProcess:
    """The part of ``subprocess.Popen`` jupyter_client uses, for a kernel the zygote forked (it
    is the zygote's child, not ours, so liveness is read from /proc instead of waitpid)."""

    stdin = stdout = stderr = None  # the zygote's child: no pipes of ours

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not process_alive(self.pid):
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


def process_alive(pid: int) -> bool:
    """Whether the process runs (a zombie does not): read from /proc, as it need not be our child."""
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
                if not process_alive(self.pid) or time.monotonic() > deadline:
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
