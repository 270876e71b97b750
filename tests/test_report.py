"""`hadac report`: a self-contained page that headless Chromium loads without a console error."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from hadac.cli import main

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _chromium(page: Path, profile: Path) -> tuple[str, str]:
    """The page's DOM after load, and what Chromium logged (console messages say CONSOLE)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (scripts/setup.sh installs it)")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    output = folder / "report.html"
    args = ["report", str(REPO / "specs" / "carbon.hada"), "-o", str(output)]
    args += ["--pareto", "emissions_here,time", "--build", str(folder / "build")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "OPTIMAL: anticipate on cloud in SWE" in result.output
    return output


def test_page_is_self_contained(page):
    html = page.read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "<script" not in html
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert links and all(link.startswith("data:image/png;base64,") for link in links)
    assert len(links) == 3 + 1  # one figure per target, and the front


def test_chromium_reports_console_errors(tmp_path):
    """The check below can fail: a page that breaks its own policy is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy"'
        " content=\"default-src 'none'\"></head><body>"
        '<img src="https://example.invalid/x.png"></body></html>'
    )
    _, log = _chromium(bad, tmp_path / "profile")
    assert "CONSOLE" in log and "Content Security Policy" in log


def test_page_renders_in_headless_chromium(page, tmp_path):
    dom, log = _chromium(page, tmp_path / "profile")
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert console == []
    answer = re.search(r'<section id="answer">(.*?)</section>', dom, re.S)
    assert answer is not None
    text = re.sub(r"<[^>]+>", " ", answer.group(1))
    text = " ".join(text.split())
    assert "OPTIMAL" in text
    assert "Run anticipate on cloud in SWE (the location is chosen too), nScenarios = 3" in text
    assert "emissions_here (let)" in text
    assert text.count("✓") == 3  # every constraint verified
    assert '<section id="pareto">' in dom and '<section id="surrogates">' in dom
