"""Execute every notebook and render the course to static HTML (`make html`), sliders working.

Writes site/NN_topic.html for each notebook in notebooks/ (figures embedded) and site/index.html
listing them in course order, for readers without a kernel. Every slider keeps working: right after
a notebook's last cell, its kernel draws each slider view in every state the page offers
(tools/static_sliders.py) into site/frames/NN_topic/, and the widget's output becomes plain HTML
controls that site/slider.js answers by showing the matching frame. The pages load nothing from
the network: site/mathjax/ holds MathJax for the equations.

The course has two editions (EDITIONS): English in notebooks/ and site/, Chinese in notebooks/zh/ and
site/zh/ (same file names, their own frames, the same shared files at the top). Only the notebooks an
edition has get pages in it; every page and both indexes carry a language switch to the same page of
the other edition where it exists. The site's own texts (the index, notes beside the sliders) are in
each edition's language, through `trpo_lite.tr`.

Usage: python tools/build_site.py [OUT_DIR]
"""

import functools
import html
import os
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from multiprocessing import get_context
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from notebook_client import CourseClient

from trpo_lite.language import language, tr, use_language

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
TOOLS = Path(__file__).resolve().parent
ASSETS = TOOLS / "site_assets"  # slider.js and site.css, copied to the site's top folder
WIDGET = "application/vnd.jupyter.widget-view+json"
REMOTE_STYLESHEET = re.compile(r'<link\b[^>]*\bhref="(?:https?:)?//[^"]*"[^>]*>')
# MathJax 3 in one file (TeX input with every extension, SVG output), in django-static-mathjax.
MATHJAX = ("django-static-mathjax", "mathjax/static/mathjax/es5/tex-svg-full.js")

# Runs in the kernel after the notebook's last cell (then removed): freezes the displayed widgets.
FREEZE = """\
import sys
sys.path.insert(0, {tools!r})
from static_sliders import freeze
freeze({model_ids!r}, {folder!r}, {url!r})
"""

# nbconvert's lab page without what needs the network (require.js, the widget manager, MathJax from
# a CDN): MathJax 3 from the site's own copy, set as nbconvert's MathJax 2 set-up is (SVG output: no
# web fonts to fetch, so pages opened from disk show equations too), and the static sliders.
TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {
  tex: {inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]],
        processEscapes: true, processEnvironments: true, tags: "ams"},
  svg: {fontCache: "global"},
};
</script>
<script src="{{ resources.site_root }}mathjax/tex-svg-full.js" defer></script>
{%- endblock html_head_js_mathjax -%}
{%- block extra_css -%}
<link rel="stylesheet" href="{{ resources.site_root }}site.css">
<script src="{{ resources.site_root }}slider.js" defer></script>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.language_switch }}
{%- endblock body_header -%}
"""


@dataclass(frozen=True)
class Edition:
    """One language of the course: where its notebooks are, the folder below the site's top folder that
    its pages go to, and its name as the other editions' language switch shows it."""

    language: str  # a code of trpo_lite.use_language: the pages' lang attribute and the site's own texts
    notebooks: Path
    folder: str  # "" for the top folder itself
    name: str  # in the language itself


EDITIONS = (Edition("en", NOTEBOOK_DIR, "", "English"), Edition("zh", NOTEBOOK_DIR / "zh", "zh", "中文"))


def course_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks in folder, in course order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def language_switches(edition: Edition, editions: tuple[Edition, ...]) -> dict[str, str]:
    """For each page of the edition (by file name, index.html included) that another edition also has,
    the markup of its language switch: a link to that page in each edition that has it."""
    def pages(e: Edition) -> set[str]:
        found = {f"{path.stem}.html" for path in course_notebooks(e.notebooks)}
        return found | {"index.html"} if found else found

    links: dict[str, list[str]] = {}
    for other in editions:
        if other != edition:
            up = Path(os.path.relpath(Path(other.folder or "."), Path(edition.folder or "."))).as_posix()
            for page in sorted(pages(edition) & pages(other)):
                links.setdefault(page, []).append(
                    f'<a href="{up}/{page}" hreflang="{other.language}" lang="{other.language}">'
                    f"{html.escape(other.name)}</a>")
    return {page: f'<nav class="language-switch">{" ".join(found)}</nav>' for page, found in links.items()}


@contextmanager
def speaking(code: str):
    """trpo_lite.tr answers in language code inside the block (the site's own texts of one edition)."""
    before = language()
    use_language(code)
    try:
        yield
    finally:
        use_language(before)


def execute(path: Path, timeout: int = 120, site: Path | None = None) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook top to bottom in a fresh kernel; return it with its outputs and the seconds taken.

    `timeout` is nbclient's limit in seconds for each cell. With `site` (the folder its page goes
    to), the kernel then freezes every slider the notebook displays: its frames go to
    site/frames/<notebook>/ and its widget output becomes the static slider (`freeze_widgets`).
    """
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    resources = {"metadata": {"path": str(path.parent)}}
    client = CourseClient(nb, timeout=timeout, kernel_name="python3", resources=resources)
    if not site:
        client.execute()
        return nb, time.perf_counter() - start
    folder = (site / "frames" / path.stem).resolve()  # the kernel runs in the notebook's folder
    shutil.rmtree(folder, ignore_errors=True)  # frames of an earlier build
    client.execute_then(lambda executed: FREEZE.format(
        tools=str(TOOLS), folder=str(folder), url=f"frames/{path.stem}/",
        model_ids=[output.data[WIDGET]["model_id"] for output in widget_outputs(executed)]))
    frozen = [output.data["application/json"] for output in nb.cells.pop().outputs  # (warnings are streams)
              if "application/json" in output.get("data", {})]
    freeze_widgets(nb, frozen[0])
    return nb, time.perf_counter() - start


def widget_outputs(nb: nbformat.NotebookNode) -> list:
    """Every output of the notebook that shows a widget, in order (its model_id names the widget)."""
    return [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs
            if WIDGET in output.get("data", {})]


def freeze_widgets(nb: nbformat.NotebookNode, frozen: dict[str, str]) -> None:
    """Replace each widget output whose model_id frozen holds by that static HTML."""
    for output in widget_outputs(nb):
        model_id = output.data[WIDGET]["model_id"]
        if model_id in frozen:
            output.output_type = "display_data"
            output.pop("execution_count", None)
            output.data = {"text/html": frozen[model_id]}


def title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first markdown heading of the notebook."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def page_html(nb: nbformat.NotebookNode, exporter: HTMLExporter, site_root: str, switch: str = "") -> str:
    """The notebook as a static page, with the language switch given: widgets that were not frozen say
    they need a kernel, and outputs link no stylesheet from the network."""
    nb = nbformat.from_dict(nb)  # a copy: the caller's notebook keeps its widget outputs
    nb.metadata.pop("widgets", None)  # the widget state is for a widget manager this page does not load
    note = tr("An interactive control: it works when the notebook runs.")
    for output in widget_outputs(nb):
        output.output_type = "display_data"
        output.pop("execution_count", None)
        output.data = {"text/html": f'<p class="static-note">{note}</p>'}
    for cell in nb.cells:  # a stylesheet an output links from the network (site.css draws what it must)
        for output in cell.get("outputs", []):
            if "text/html" in output.get("data", {}):
                output.data["text/html"] = REMOTE_STYLESHEET.sub("", output.data["text/html"])
    body, _ = exporter.from_notebook_node(nb, resources={"site_root": site_root, "language_switch": switch})
    return body


def copy_shared_files(root: Path) -> None:
    """The files every page uses, into the site's top folder: the sliders' script and style, MathJax."""
    root.mkdir(parents=True, exist_ok=True)
    for asset in ASSETS.iterdir():
        shutil.copyfile(asset, root / asset.name)
    package, file = MATHJAX
    try:
        mathjax = Path(distribution(package).locate_file(file))
    except PackageNotFoundError:
        raise RuntimeError(f"the pages need MathJax: pip install {package} (the dev extra has it)") from None
    (root / "mathjax").mkdir(exist_ok=True)
    shutil.copyfile(mathjax, root / "mathjax" / mathjax.name)


def render(executed: dict[Path, nbformat.NotebookNode], out: Path, root: Path | None = None,
           language: str = "en", switches: dict[str, str] | None = None) -> list[Path]:
    """Write one HTML page per executed notebook and an index in course order into out; return the pages.

    root is the site's top folder, where the shared files go (by default out itself; another edition's
    pages go to a folder below it). language is the edition's: the pages' lang attribute and the site's
    own texts. switches holds the language switch of each page that has one (`language_switches`).
    """
    root = root or out
    switches = switches or {}
    out.mkdir(parents=True, exist_ok=True)
    copy_shared_files(root)
    site_root = "" if out == root else Path(os.path.relpath(root, out)).as_posix() + "/"
    exporter = HTMLExporter(template_name="lab", template_file="course.html.j2", language_code=language,
                            extra_loaders=[DictLoader({"course.html.j2": TEMPLATE})])
    pages, items = [], []
    with speaking(language):
        for path, nb in sorted(executed.items()):
            page = out / f"{path.stem}.html"
            page.write_text(page_html(nb, exporter, site_root, switches.get(page.name, "")), encoding="utf-8")
            pages.append(page)
            items.append(f'<li><a href="{page.name}">{html.escape(title(nb, path.stem))}</a></li>')
        heading = tr("trpo_lite: TRPO from first principles")
        intro = tr("The course with its figures, checks and working sliders: every figure a slider "
                          "shows was drawn in advance for each of its values, so the pages need no Python. "
                          "To change anything else or train an agent yourself, run the notebooks "
                          "({command}).",
                          command="<code>make lab</code>")
        (out / "index.html").write_text(
            f"<!doctype html><html lang='{language}'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1.0'>"
            f"<link rel='stylesheet' href='{site_root}site.css'>"
            f"<title>{heading}</title></head><body>{switches.get('index.html', '')}<h1>{heading}</h1>"
            f"<p>{intro}</p>"
            f"<ol>{''.join(items)}</ol></body></html>\n",
            encoding="utf-8",
        )
    return pages


def build(paths: list[Path], out: Path, root: Path | None = None, timeout: int = 120, jobs: int = 1,
          language: str = "en", switches: dict[str, str] | None = None) -> dict[str, dict]:
    """Execute the notebooks, freezing their sliders into out, and render their pages; return for each
    notebook the seconds it took (running and freezing), the slider controls it shows working, and the
    frames drawn for them.

    jobs > 1 runs that many notebooks at once, each in a process of its own: faster, but the timings
    the notebooks print (slider answers, training) then count a shared machine; `make html` runs one.
    root, language and switches are render's.
    """
    run = functools.partial(execute, timeout=timeout, site=out)
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) if jobs > 1 else nullcontext() as pool:
        executed, report = {}, {}
        for path, (nb, seconds) in zip(paths, pool.map(run, paths) if pool else map(run, paths), strict=True):
            executed[path] = nb
            frames = out / "frames" / path.stem
            report[path.stem] = {
                "seconds": seconds,
                "sliders": sum(output.data["text/html"].count("data-control=")
                               for cell in nb.cells if cell.cell_type == "code"
                               for output in cell.outputs if "text/html" in output.get("data", {})),
                "frames": len(list(frames.iterdir())) if frames.is_dir() else 0,
            }
            print(f"{path.parent.name}/{path.name}: {seconds:.1f} s, {report[path.stem]['sliders']} sliders "
                  f"working, {report[path.stem]['frames']} frames", flush=True)
    render(executed, out, root, language, switches)
    return report


def build_course(site: Path, editions: tuple[Edition, ...] = EDITIONS, jobs: int = 1) -> dict[str, dict]:
    """Build every edition that has notebooks into its folder of site, each page with its language switch;
    return build's report, keyed by the page's path below site ("zh/04_kl_trust_region")."""
    report = {}
    for edition in editions:
        paths = course_notebooks(edition.notebooks)
        if paths:
            out = site / edition.folder
            pages = build(paths, out, root=site, jobs=jobs, language=edition.language,
                          switches=language_switches(edition, editions))
            report |= {(Path(edition.folder) / stem).as_posix(): row for stem, row in pages.items()}
    return report


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "site"
    start = time.perf_counter()
    report = build_course(out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {out / 'index.html'}: {sum(r['sliders'] for r in report.values())} sliders working, "
          f"{sum(r['frames'] for r in report.values())} frames, {size / 1e6:.1f} MB, "
          f"{time.perf_counter() - start:.0f} s")
