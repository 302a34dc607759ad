"""A notebook client that does not sleep through a kernel reply (used by the site build, the notebook tests,
the slider timings and the fresh-install test; it needs nothing of trpo_lite, so it also runs where the
package is not installed yet).
"""

import nbformat
import zmq
from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient


def recheck_after_send(channel) -> None:
    """Make a jupyter_client asyncio channel wake its pending poll when a send hides a waiting message.

    Works around https://github.com/jupyter/nbclient/issues/312 (PR #311) and
    https://github.com/jupyter/nbconvert/issues/2029: a cell that shows a slider sometimes
    took exactly the per-cell timeout although the kernel had replied at once. Why: while
    nbclient waits for the execute_reply (an asyncio poll on the shell socket), its mimic of
    the Output widget inside `interactive_output` answers each captured output with a
    comm_msg on that same socket. jupyter_client's Session.send sends it through a plain,
    non-asyncio shadow of the socket, and the send drains the socket's edge-triggered
    wake-up FD; if the reply has just come in, nothing wakes the poll until it times out.
    Reading zmq.EVENTS through pyzmq's asyncio socket after each send lets pyzmq see the
    waiting message and wake the poll. Timeouts keep their meaning: nothing is retried.
    """
    send = channel.send

    def send_then_recheck(msg):
        send(msg)
        channel.socket.get(zmq.EVENTS)  # the asyncio socket's get() schedules its poll handler

    channel.send = send_then_recheck


class CourseClient(NotebookClient):
    """NotebookClient whose shell channel cannot sleep through a reply that has already arrived."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        recheck_after_send(kc.shell_channel)
        return kc

    async def async_execute_then(self, epilogue) -> nbformat.NotebookNode:
        """Execute every cell, then in the same kernel one more: the code epilogue(executed notebook)
        returns, appended as the notebook's last cell (nbclient's execute, with one cell more)."""
        self.reset_execution_trackers()
        async with self.async_setup_kernel():
            reply = await self.async_wait_for_reply(await ensure_async(self.kc.kernel_info()))
            self.nb.metadata["language_info"] = reply["content"]["language_info"]
            for index, cell in enumerate(self.nb.cells):
                await self.async_execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
            self.nb.cells.append(nbformat.v4.new_code_cell(epilogue(self.nb)))
            await self.async_execute_cell(self.nb.cells[-1], len(self.nb.cells) - 1)
        return self.nb

    execute_then = run_sync(async_execute_then)
