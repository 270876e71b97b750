"""The what-if page in a real headless Chromium (Debian's, driven by Playwright) against a
real `hadac serve specs/tiny.hada` on a free local port.

The page is used as a person uses it, by its controls; what it shows is compared with what
`hadac.load(...).solve(...)` answers for the same question, and with the JSON of the
`hadac solve` command the page says is the same question. No request may fail or leave the
server's address, and nothing may be logged as an error. The first test leaves a
screenshot: in its tmp folder, or where HADAC_SCREENSHOT says
(`HADAC_SCREENSHOT=docs/whatif.png` makes the README's).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner
from conftest import REPO
from playwright.sync_api import Browser, Page, sync_playwright
from servers import Server, serving, without_timings

import hadac
from hadac.cli import main

SOLVER = "gecode"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
WAIT = 20_000  # ms for an answer or a front to show, at most
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
pytestmark = pytest.mark.requires_solver(SOLVER)
T = TypeVar("T")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("page")
    with serving(folder, [REPO / "specs" / "tiny.hada"]) as running:
        yield running


@pytest.fixture(scope="module")
def study(server) -> hadac.Study:
    """The build the server compiled, opened here to ask the same questions."""
    return hadac.load(server.folder / "build" / "tiny")


class Visit:
    """A page of the browser on the server, and everything that went wrong on it: console
    errors, script errors, failed or refused requests, requests elsewhere."""

    def __init__(self, page: Page, base: str):
        self.page, self.problems, self.solves = page, [], []
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        page.on("request", self._request)
        page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"{r.status}: {r.url}"),
        )
        self.base = base

    def _request(self, request) -> None:
        if not request.url.startswith(self.base + "/"):
            self.problems.append(f"left the server: {request.url}")
        if request.url.endswith("/solve"):
            self.solves.append(json.loads(request.post_data))

    def settled(self, card: str = "answer") -> None:
        """Wait until the card shows the answer to the latest question."""
        self.page.wait_for_selector(f"#{card}[data-state=ready]", timeout=WAIT)

    def answer(self) -> dict:
        self.settled()
        return json.loads(self.page.text_content("#answer-json"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (scripts/setup.sh installs Debian's)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def visit(browser, server) -> Iterator[Visit]:
    """The page freshly opened on a link to tiny with gecode, its answer and its front
    shown."""
    context = browser.new_context(viewport=VIEWPORT)
    opened = Visit(context.new_page(), server.url)
    opened.page.goto(f"{server.url}/?study=tiny&solver={SOLVER}")
    opened.settled()
    opened.settled("pareto")
    yield opened
    context.close()


def aside(work: Callable[[], T]) -> T:
    """`work()` on a thread of its own: Playwright's event loop holds this one, and a
    solve runs MiniZinc on an event loop of its own."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(work).result()


def expected(study: hadac.Study, **question) -> dict:
    """What the Python API (and so `hadac solve --json`) answers, as JSON."""
    answer = aside(lambda: study.solve(solver=SOLVER, **question))
    return without_timings(json.loads(json.dumps(answer.to_json())))


def run_shown(command: str, build: Path) -> dict:
    """The JSON of the `hadac solve` command the page shows, run on the server's build."""
    words = shlex.split(command)
    assert words[:3] == ["hadac", "solve", "tiny.hada"]
    result = aside(lambda: CliRunner().invoke(main, ["solve", str(build), *words[3:]]))
    assert result.exit_code in (0, 2), result.output  # 2: infeasible
    return without_timings(json.loads(result.stdout))


def plotted(mark) -> tuple[float, float]:
    """The values a mark of the front's plot stands for."""
    return float(mark.get_attribute("data-x")), float(mark.get_attribute("data-y"))


def test_the_page_answers_as_the_cli_does_as_a_bound_moves(visit, study, tmp_path):
    page = visit.page
    shown = visit.answer()
    assert without_timings(shown) == expected(study)
    choice = shown["choice"]
    assert page.inner_text("#choice-hardware").startswith(choice["hardware"])
    assert page.inner_text("#choice-algorithm") == choice["algorithm"]
    params = ", ".join(f"{k} = {v}" for k, v in choice["params"].items())
    assert page.inner_text("#choice-params") == params
    assert page.inner_text("#command") == "hadac solve tiny.hada --solver gecode --json"

    # The time bound's slider, clicked a quarter of the way along: its box follows.
    slider = page.locator("#bound-time-le-slider")
    size = slider.bounding_box()
    slider.click(position={"x": size["width"] * 0.25, "y": size["height"] / 2})
    moved = page.input_value("#bound-time-le-box")
    assert float(moved) != 30
    shown = visit.answer()
    assert without_timings(shown) == expected(study, constraints=[f"time <= {moved} s"])
    assert page.inner_text("#command") == (
        f"hadac solve tiny.hada --constraint 'time <= {moved} s' --solver gecode --json"
    )

    # Keys pressed one after another are asked as one question once they stop (or a few,
    # should a busy machine space them out by more than the page waits, but fewer than the
    # keys), and what shows is the answer to the last.
    asked = len(visit.solves)
    slider.focus()
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    stepped = page.input_value("#bound-time-le-box")
    shown = visit.answer()
    assert 1 <= len(visit.solves) - asked < 4
    assert visit.solves[-1]["constraints"] == [f"time <= {stepped} s"]
    assert without_timings(shown) == expected(study, constraints=[f"time <= {stepped} s"])

    # The number box, typed into: a bound the answer meets with almost no room, so it binds.
    page.fill("#bound-time-le-box", "8.5")
    shown = visit.answer()
    assert without_timings(shown) == expected(study, constraints=["time <= 8.5 s"])
    assert without_timings(shown) == run_shown(page.inner_text("#command"), study.build.directory)
    assert shown["choice"] != expected(study)["choice"]  # the bound changed the answer
    assert page.input_value("#bound-time-le-slider") == "8.5"
    assert 8.5 - shown["predicted"]["time"] < 0.01 * (89.1649 - 2.8673)  # of time's range
    assert page.inner_text('.bound[data-quantity="time"] .slack') == "binds"
    assert page.inner_text('#figures tr[data-quantity="time"] .mark') == "binds"
    cost = page.inner_text('.bound[data-quantity="cost"] .slack')
    assert cost == f"slack {310 - shown['predicted']['cost']:.4g} kEUR"  # four significant digits

    # The front of time and emissions, as the API traces it, with the answer on it.
    visit.settled("pareto")
    front = aside(lambda: study.pareto(["time", "emissions"], 10, SOLVER)).to_json()["points"]
    drawn = [plotted(dot) for dot in page.locator("#front circle.point").all()]
    assert drawn == [(p["time"], p["emissions"]) for p in front]
    mark = plotted(page.locator("#front .answer-mark"))
    assert mark == (shown["predicted"]["time"], shown["predicted"]["emissions"])
    assert page.locator("#front line.limit").count() == 1  # time <= 8.5 s, on the x axis

    wanted = os.environ.get("HADAC_SCREENSHOT")
    picture = Path(wanted) if wanted else tmp_path / "whatif.png"
    page.screenshot(path=str(REPO / picture if not picture.is_absolute() else picture))
    assert visit.problems == []


def test_a_dropped_bound_another_objective_and_an_infeasible_bound(visit, study):
    page = visit.page
    assert page.locator("#location-set").is_hidden()  # no figure of tiny depends on it
    page.uncheck("#bound-cost-le-on")
    page.select_option("#sense", "maximize")
    page.select_option("#goal", "memory")
    shown = visit.answer()
    assert without_timings(shown) == expected(study, maximize="memory", drop_constraints=["2"])
    assert page.inner_text("#command") == (
        "hadac solve tiny.hada --maximize memory --drop-constraint 2 --solver gecode --json"
    )

    page.check("#bound-emissions-le-on")  # a bound the spec does not set
    page.fill("#bound-emissions-le-box", "0.0001")
    shown = visit.answer()
    assert without_timings(shown) == expected(
        study,
        maximize="memory",
        drop_constraints=["2"],
        constraints=["emissions <= 0.0001 kg"],
    )

    page.fill("#bound-time-le-box", "1")
    shown = visit.answer()
    question = {"maximize": "memory", "drop_constraints": ["2"]}
    wanted = expected(study, constraints=["time <= 1 s", "emissions <= 0.0001 kg"], **question)
    assert without_timings(shown) == wanted and shown["status"] == "INFEASIBLE"
    assert wanted == run_shown(page.inner_text("#command"), study.build.directory)
    assert page.inner_text("#status") == "INFEASIBLE"
    assert page.inner_text("#explanations") == "\n".join(wanted["explanations"])
    assert page.locator("#front .answer-mark").count() == 0
    assert visit.problems == []


def test_the_page_and_its_files_come_from_the_server_alone(server):
    page = server.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    for asset in ("/static/app.js", "/static/app.css", "/static/icon.svg"):
        assert asset in page.text
        assert server.client.get(asset).status_code == 200
    for shipped in (REPO / "hadac" / "web").iterdir():  # names nothing from elsewhere
        text = shipped.read_text().replace(SVG_NAMESPACE, "")
        assert not re.search(r"(https?:)?//[\w-]+\.\w", text), shipped.name
    assert "/" not in server.client.get("/openapi.json").json()["paths"]
