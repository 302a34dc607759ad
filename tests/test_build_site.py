"""tools/build_site.py's notebook runner: a slider cell must not wait out nbclient's per-cell timeout.

The stall (https://github.com/jupyter/nbclient/issues/312): nbclient waits for a cell's
execute_reply by polling the shell socket, and the Output widget behind every slider makes
it send a comm_msg on that same socket; jupyter_client sends it without pyzmq's asyncio
bookkeeping, which drains the socket's wake-up FD. A reply that had just arrived then lies
unnoticed until the poll times out. The first test stages that order of events exactly; the
second runs real slider cells through execute() and measures the kernel's idle time between
cells.
"""

import asyncio
import select
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_site import execute, recheck_after_send  # noqa: E402

POLL_S = 0.5  # the shell poll's timeout in the staged race


async def seconds_to_notice_reply(patched: bool) -> float:
    """Seconds a pending shell poll takes to return a reply that arrived just before a comm send."""
    context = zmq.asyncio.Context()
    kernel = zmq.Context.instance().socket(zmq.ROUTER)  # plays the kernel's shell socket
    port = kernel.bind_to_random_port("tcp://127.0.0.1")
    socket = context.socket(zmq.DEALER)
    socket.connect(f"tcp://127.0.0.1:{port}")
    session = Session(key=b"")
    shell = AsyncZMQSocketChannel(socket, session)
    if patched:
        recheck_after_send(shell)
    try:
        shell.send(session.msg("execute_request"))
        ident, *_ = kernel.recv_multipart()
        waiting = asyncio.ensure_future(shell.get_msg(timeout=POLL_S))
        await asyncio.sleep(0.05)  # the poll is registered and finds nothing yet
        session.send(kernel, "execute_reply", ident=ident)
        # Block the event loop until the reply has signalled the socket's FD, as when the loop
        # is busy with iopub messages; then send what the Output widget mimic sends.
        assert select.select([socket.FD], [], [], 5)[0], "the reply never reached the client"
        shell.send(session.msg("comm_msg"))
        start = time.perf_counter()
        reply = await waiting
        assert reply["msg_type"] == "execute_reply"
        return time.perf_counter() - start
    finally:
        socket.close(linger=0)
        kernel.close(linger=0)
        context.term()


def test_reply_that_arrived_before_a_comm_send_is_noticed_at_once():
    # Without the workaround the staged race reproduces the stall: the poll sleeps to its timeout.
    # If this starts failing, jupyter_client/pyzmq fixed it upstream and recheck_after_send can go.
    assert asyncio.run(seconds_to_notice_reply(patched=False)) > 0.8 * POLL_S
    assert asyncio.run(seconds_to_notice_reply(patched=True)) < 0.1 * POLL_S


def kernel_time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_slider_cells_run_without_waiting_out_the_cell_timeout(tmp_path):
    n_sliders, timeout_s = 30, 4
    setup = """
import ipywidgets as widgets
import matplotlib.pyplot as plt
from trpo_lite.widgets import slider_view


def view(x):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, x])
    return fig
"""
    cells = [new_code_cell(setup)]
    cells += [new_code_cell(f"slider_view(view, x=widgets.FloatSlider(value={k / n_sliders}))")
              for k in range(n_sliders)]
    cells.append(new_code_cell("None"))  # so the last slider cell has a successor to time against
    path = tmp_path / "sliders.ipynb"
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": kernelspec}), path)

    nb, _ = execute(path, timeout=timeout_s)

    # The widget's output holds each figure: the comm_msg path that triggers the race did run.
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    shown = [m for m in state.values() if m["model_name"] == "OutputModel"]
    assert len(shown) == n_sliders
    assert all("image/png" in m["state"]["outputs"][0]["data"] for m in shown)
    # A stall shows as the kernel sitting idle for the whole cell timeout between its reply to one
    # cell and the request for the next; otherwise that gap is milliseconds.
    gaps = [
        kernel_time(after.metadata.execution["iopub.status.busy"])
        - kernel_time(before.metadata.execution["shell.execute_reply"])
        for before, after in zip(nb.cells[1:-1], nb.cells[2:], strict=True)
    ]
    assert max(gaps) < timeout_s / 2, f"slowest hand-over between cells took {max(gaps):.2f} s"
