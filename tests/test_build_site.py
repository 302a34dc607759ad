"""tools/build_site.py: its notebook runner, and the pages it writes with every slider working.

The runner: a slider cell must not wait out nbclient's per-cell timeout. The stall
(https://github.com/jupyter/nbclient/issues/312): nbclient waits for a cell's execute_reply by
polling the shell socket, and the Output widget behind every slider makes it send a comm_msg on
that same socket; jupyter_client sends it without pyzmq's asyncio bookkeeping, which drains the
socket's wake-up FD. A reply that had just arrived then lies unnoticed until the poll times out.
The first test stages that order of events exactly; the second runs real slider cells through
execute() and measures the kernel's idle time between cells.
"""

import asyncio
import html
import re
import select
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_site import Edition, build, build_course, execute, language_switches  # noqa: E402
from notebook_client import recheck_after_send  # noqa: E402

from trpo_lite.language import language  # noqa: E402

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


def course_page_notebook(path: Path) -> Path:
    """A notebook with what the course's pages hold: equations, a printed check, a figure, sliders."""
    cells = [
        new_markdown_cell("# A page of the course\nThe objective $J(\\theta)$ and $$\\delta \\tag{E9}$$"),
        new_code_cell("import ipywidgets as widgets\nimport matplotlib.pyplot as plt\n"
                      "from trpo_lite.widgets import show, slider_view\n\n"
                      "def view(k, shape):\n"
                      "    fig = plt.figure(figsize=(2, 1), dpi=50)\n"
                      "    ax = fig.add_subplot(title=f'{k} {shape}')\n"
                      "    ax.plot([0, 1], [0, k] if shape == 'up' else [k, 0])\n"
                      "    return fig\n\n"
                      "print('check passed: 1 == 1')\nshow(view(1, 'up'))"),
        # an output that links a stylesheet from the network, as matplotlib's animation controls do
        new_code_cell("from IPython.display import HTML\n"
                      "HTML('<link rel=\"stylesheet\" href=\"https://example.org/icons.css\"><i>icons</i>')"),
        new_code_cell("slider_view(view, k=widgets.IntSlider(value=1, min=0, max=2, description='slope'),\n"
                      "            shape=widgets.Dropdown(options=['up', 'down'], description='shape'))"),
        new_markdown_cell("## After the slider"),
        new_code_cell("up = slider_view(lambda k: view(k, 'up'), k=widgets.IntSlider(value=2, max=3))\n"
                      "widgets.VBox([up, widgets.Button(description='Train')])"),
    ]
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": kernelspec}), path)
    return path


def test_site_pages_keep_every_slider_working_where_the_widget_was(tmp_path):
    notebook = course_page_notebook(tmp_path / "01_page.ipynb")
    site = tmp_path / "site"
    report = build([notebook], site)

    # 3 x 2 pictures for the first slider; the second draws k = 0, 1, 2 as the first did (written once) and 3
    assert report["01_page"]["sliders"] == 3 and report["01_page"]["frames"] == 6 + 1
    page = (site / "01_page.html").read_text()
    # In place: the first static slider between its cell's code and the next cell's heading.
    code_at, slider_at = re.search(r"In\s\[3\]:", page).start(), page.index('class="static-slider"')
    assert code_at < slider_at < page.index("After the slider") < page.rindex('class="static-slider"')
    assert page.count('class="static-slider"') == 2 and page.count("data-control=") == 3
    assert "check passed: 1 == 1" in page and "data:image/png;base64" in page
    assert ">Train</button>" in page
    assert "widget-view+json" not in page and "widget-state+json" not in page  # no dead widgets left
    frames = re.findall(r'"src":"([^"]+)"', html.unescape(page))  # every frame the table names
    frames += re.findall(r'<img [^>]*src="(frames/[^"]+)"', page)  # and the start frames
    assert frames and all((site / src).is_file() for src in frames)
    # Nothing from the network: every script, style and image is the site's own or inline.
    assert not re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?//', page)
    assert "<i>icons</i>" in page  # the output itself stays
    for shared in ("slider.js", "site.css", "mathjax/tex-svg-full.js"):
        assert (site / shared).is_file() and f'"{shared}"' in page
    index = (site / "index.html").read_text()
    assert "working sliders" in index and 'href="01_page.html"' in index


def test_a_second_language_gets_a_folder_of_its_own_below_the_shared_files(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    notebook = course_page_notebook(tmp_path / "notebooks" / "01_page.ipynb")
    monkeypatch.chdir(tmp_path)
    site = Path("site")  # relative, as `make html` passes it (the kernel runs in the notebook's folder)
    build([notebook], site / "zh", root=site)
    page = (site / "zh" / "01_page.html").read_text()
    assert '"../slider.js"' in page and '"../mathjax/tex-svg-full.js"' in page
    assert len(list((site / "zh" / "frames" / "01_page").iterdir())) == 7 and (site / "slider.js").is_file()
    assert not (site / "zh" / "slider.js").exists() and (site / "zh" / "index.html").is_file()
    assert 'src="frames/01_page/' in page


def test_a_view_that_fails_for_one_value_fails_the_build(tmp_path):
    with pytest.raises(CellExecutionError, match=r"view failed for \{'k': 0\}"):
        execute(ROOT / "tests" / "browser" / "fixtures" / "raising_slider.ipynb", site=tmp_path)


# --- both editions -----------------------------------------------------------------------------------


def editions_of(tmp_path: Path) -> tuple[Edition, Edition]:
    english = tmp_path / "notebooks"
    return Edition("en", english, "", "English"), Edition("zh", english / "zh", "zh", "中文")


def tiny_notebook(path: Path, heading: str, code: str = "print('ok')") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(new_notebook(cells=[new_markdown_cell(f"# {heading}"), new_code_cell(code)],
                                metadata={"kernelspec": kernelspec}), path)
    return path


def test_the_language_switch_links_each_page_to_its_counterpart_where_one_exists(tmp_path):
    en, zh = editions_of(tmp_path)
    assert language_switches(en, (en, zh)) == {}  # no Chinese notebook yet: no switch anywhere
    for stem in ("00_a", "01_b"):
        tiny_notebook(en.notebooks / f"{stem}.ipynb", stem)
    tiny_notebook(zh.notebooks / "00_a.ipynb", "甲")

    to_chinese, to_english = language_switches(en, (en, zh)), language_switches(zh, (en, zh))
    assert sorted(to_chinese) == sorted(to_english) == ["00_a.html", "index.html"]  # 01_b has no counterpart
    assert 'href="zh/00_a.html" hreflang="zh" lang="zh">中文</a>' in to_chinese["00_a.html"]
    assert 'href="../index.html" hreflang="en" lang="en">English</a>' in to_english["index.html"]


def test_the_site_has_both_editions_each_page_switching_to_the_other(tmp_path):
    en, zh = editions_of(tmp_path)
    tiny_notebook(en.notebooks / "00_a.ipynb", "Page A",
                  "import ipywidgets as widgets\nwidgets.Button(description='Train')")
    tiny_notebook(en.notebooks / "01_b.ipynb", "Page B")
    tiny_notebook(zh.notebooks / "00_a.ipynb", "甲页",
                  "import ipywidgets as widgets\nimport trpo_lite\n\ntrpo_lite.use_language('zh')\n"
                  "widgets.Button(description='训练')")
    site = tmp_path / "site"

    report = build_course(site, (en, zh))

    assert sorted(report) == ["00_a", "01_b", "zh/00_a"] and language() == "en"
    assert sorted(p.name for p in site.glob("*.html")) == ["00_a.html", "01_b.html", "index.html"]
    assert sorted(p.name for p in (site / "zh").glob("*.html")) == ["00_a.html", "index.html"]

    def switch(page: Path) -> list[Path]:  # where the page's language switch leads
        navs = re.findall(r'<nav class="language-switch">(.*?)</nav>', page.read_text())
        return [(page.parent / href).resolve() for nav in navs for href in re.findall(r'href="([^"]+)"', nav)]

    assert switch(site / "00_a.html") == [(site / "zh" / "00_a.html").resolve()]
    assert switch(site / "zh" / "00_a.html") == [(site / "00_a.html").resolve()]
    assert switch(site / "index.html") == [(site / "zh" / "index.html").resolve()]
    assert switch(site / "zh" / "index.html") == [(site / "index.html").resolve()]
    assert switch(site / "01_b.html") == []  # no Chinese counterpart, no switch

    chinese, index = (site / "zh" / "00_a.html").read_text(), (site / "zh" / "index.html").read_text()
    assert '<html lang="zh">' in chinese and "（运行笔记本时可用）" in chinese  # the kernel's texts: Chinese
    assert '"../site.css"' in chinese and not (site / "zh" / "site.css").exists()
    assert "<html lang='zh'>" in index and "从基本原理推导 TRPO" in index and "make lab" in index
    assert 'href="00_a.html">甲页</a>' in index and "01_b" not in index
    english = (site / "00_a.html").read_text()
    assert '<html lang="en">' in english and "(in a running notebook)" in english
