"""Starting one kernel the usual way: its kernel spec (or the error naming a missing one), and a
kernel manager whose client is ready as soon as the kernel has answered, not after a fixed wait.

The pool (:mod:`kernels`) uses these for kernels it cannot fork; :mod:`forked_kernel` builds on
:class:`PromptKernelManager` for those it can.
"""
from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager

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
