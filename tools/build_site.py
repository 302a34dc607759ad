"""Execute every notebook and render the course to static HTML (`make html`).

Writes site/NN_topic.html for each notebook in notebooks/ (figures embedded)
and site/index.html listing them in course order, for readers without a kernel.

Usage: python tools/build_site.py [OUT_DIR]
"""

import html
import sys
import time
from pathlib import Path

import nbformat
import zmq
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"


def course_notebooks() -> list[Path]:
    """The numbered notebooks, in course order."""
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


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


def execute(path: Path, timeout: int = 120) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook top to bottom in a fresh kernel; return it with its outputs and the seconds taken.

    `timeout` is nbclient's limit in seconds for each cell.
    """
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    resources = {"metadata": {"path": str(path.parent)}}
    CourseClient(nb, timeout=timeout, kernel_name="python3", resources=resources).execute()
    return nb, time.perf_counter() - start


def title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first markdown heading of the notebook."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def render(executed: dict[Path, nbformat.NotebookNode], out: Path) -> list[Path]:
    """Write one HTML page per executed notebook and an index in course order; return the pages."""
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    pages, items = [], []
    for path, nb in sorted(executed.items()):
        body, _ = exporter.from_notebook_node(nb)
        page = out / f"{path.stem}.html"
        page.write_text(body)
        pages.append(page)
        items.append(f'<li><a href="{page.name}">{html.escape(title(nb, path.stem))}</a></li>')
    (out / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>trpo_lite: TRPO from first principles"
        "</title></head><body><h1>trpo_lite: TRPO from first principles</h1>"
        "<p>The course, rendered with its figures. Sliders need a live kernel: run <code>make lab</code>."
        f"</p><ol>{''.join(items)}</ol></body></html>\n"
    )
    return pages


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "site"
    executed = {}
    for path in course_notebooks():
        executed[path], seconds = execute(path)
        print(f"executed {path.name} in {seconds:.1f} s")
    render(executed, out)
    print(f"wrote {out / 'index.html'}")
