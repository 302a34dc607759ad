"""The static site (`make html`) in a real browser: every slider of every page works without a kernel.

Each page is served from 127.0.0.1 with every other address blocked; every control of every slider
is moved through all of its values. Each move must change the control's readout and the picture, the
picture must load, and the console must stay free of errors. Fixture pages whose slider changes
nothing, whose script throws or logs an error, whose frame is missing or which asks the network prove
that the check fails when it should. Each page's screenshot, every control at its last value, goes to
.browser-artifacts/site/.

The course's site is built here as `make html` builds it, both editions (the Chinese pages of the
notebooks in notebooks/zh/, in site/zh/), two notebooks at a time (every notebook runs and draws its
frames: about two minutes on two cores for each edition); set TRPO_LITE_SITE to a folder `make html`
wrote to test that one.
"""

import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import harness  # noqa: E402
from build_site import EDITIONS, build, build_course, course_notebooks  # noqa: E402

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".browser-artifacts" / "site"
FIXTURES = Path(__file__).parent / "fixtures"
NOTEBOOKS = course_notebooks()
# Each page of the site with the notebook it shows: English at the top, the Chinese edition in zh/.
PAGES = [pytest.param((Path(edition.folder) / f"{nb.stem}.html").as_posix(), nb,
                      id=(Path(edition.folder) / nb.stem).as_posix())
         for edition in EDITIONS for nb in course_notebooks(edition.notebooks)]
CHINESE = course_notebooks({edition.language: edition for edition in EDITIONS}["zh"].notebooks)


@pytest.fixture(scope="module")
def context():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with harness.browser_context() as ctx:
        yield ctx


@pytest.fixture(scope="module")
def course_site(tmp_path_factory):
    if os.environ.get("TRPO_LITE_SITE"):
        yield Path(os.environ["TRPO_LITE_SITE"])
        return
    site = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    build_course(site, jobs=2)  # two at a time: the timings the pages print do not matter here
    print(f"built the site in {time.perf_counter() - start:.0f} s")
    yield site


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("fixture_site")
    build([FIXTURES / "good_slider.ipynb", FIXTURES / "dead_slider.ipynb"], site)
    return site


def broken_copy(site: Path, folder: Path, change) -> Path:
    """A copy of the site with one thing broken by change(copy)."""
    shutil.copytree(site, folder)
    change(folder)
    return folder


def check(context, site: Path, page: str) -> tuple[list[str], int]:
    label = page.removesuffix(".html").replace("/", "_")  # zh/04_kl_trust_region.html: zh_04_kl_trust_region
    with harness.static_server(site) as base:
        return harness.check_static_page(context, f"{base}/{page}", label, SHOTS)


def test_site_check_passes_a_working_slider(context, fixture_site):
    problems, sliders = check(context, fixture_site, "good_slider.html")
    assert problems == [] and sliders == 1


def test_site_check_fails_a_slider_whose_picture_never_changes(context, fixture_site):
    problems, _ = check(context, fixture_site, "dead_slider.html")
    assert problems and all("the picture did not change" in p for p in problems), problems


def test_site_check_fails_a_page_whose_script_throws(context, fixture_site, tmp_path):
    def throw(site):
        script = site / "slider.js"
        script.write_text(script.read_text().replace("function show(k) {", "function show(k) {\n"
                                                     "    throw new Error('deliberately broken');"))

    problems, _ = check(context, broken_copy(fixture_site, tmp_path / "site", throw), "good_slider.html")
    assert any("uncaught deliberately broken" in p for p in problems), problems
    assert any("the control did not move" in p for p in problems), problems


def test_site_check_fails_a_working_slider_that_logs_an_error(context, fixture_site, tmp_path):
    def log(site):
        script = site / "slider.js"
        script.write_text(script.read_text().replace("function show(k) {", "function show(k) {\n"
                                                     "    console.error('deliberately logged');"))

    problems, _ = check(context, broken_copy(fixture_site, tmp_path / "site", log), "good_slider.html")
    assert problems and all("console error: deliberately logged" in p for p in problems), problems


def test_site_check_fails_a_missing_frame_and_a_request_off_this_machine(context, fixture_site, tmp_path):
    def break_page(site):
        sorted((site / "frames" / "good_slider").iterdir())[-1].unlink()
        page = site / "good_slider.html"
        page.write_text(page.read_text().replace("<main>", '<main><img src="https://example.org/x.png">', 1))

    problems, _ = check(context, broken_copy(fixture_site, tmp_path / "site", break_page), "good_slider.html")
    assert any("the picture did not load" in p for p in problems), problems
    assert any("404 for" in p for p in problems), problems
    assert any("asked the network for https://example.org/x.png" in p for p in problems), problems


def test_index_lists_every_page_and_says_sliders_work(context, course_site):
    index = (course_site / "index.html").read_text()
    assert all(f'href="{nb.stem}.html"' in index for nb in NOTEBOOKS)
    assert "working sliders" in index
    problems, _ = check(context, course_site, "index.html")
    assert problems == []


@pytest.mark.skipif(not CHINESE, reason="no Chinese notebook in notebooks/zh/ yet: the site has no zh/ pages")
def test_the_chinese_index_lists_its_pages_and_every_language_switch_leads_to_a_page(context, course_site):
    index = (course_site / "zh" / "index.html").read_text()
    assert all(f'href="{nb.stem}.html"' in index for nb in CHINESE)
    problems, _ = check(context, course_site, "zh/index.html")
    assert problems == []
    switches = {page: re.findall(r'<nav class="language-switch">.*?href="([^"]+)"', page.read_text())
                for page in course_site.rglob("*.html")}
    assert sum(map(len, switches.values())) == 2 * (len(CHINESE) + 1), "one switch each way per page pair"
    assert all((page.parent / href).is_file() for page, hrefs in switches.items() for href in hrefs)


@pytest.mark.parametrize(("page", "notebook"), PAGES)
def test_every_slider_of_the_page_works_without_a_kernel(context, course_site, page, notebook):
    problems, sliders = check(context, course_site, page)
    assert problems == []
    assert sliders == harness.expected_sliders(notebook), f"{sliders} range sliders on the page"
