"""``commitledger report --html``: self-contained, escaped, and rendered by a real headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from conftest import commit_file, git, run_cli

USAGE = "AI-Usage: agent=claude-code model=claude-sonnet-4-5 input=5000 output=700 cost_usd={:.4f}"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and raw RGB(A) rows of a non-interlaced 8-bit PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        filter_type = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if filter_type == 1:
                line[x] = (line[x] + left) & 0xFF
            elif filter_type == 2:
                line[x] = (line[x] + up) & 0xFF
            elif filter_type == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


@pytest.fixture
def project(repo: Path) -> Path:
    commit_file(repo, "README.md", "hello\n", "Initial commit")
    first = commit_file(repo, "src/a.py", "a = 1\n", f"{HOSTILE} (#1)\n\n{USAGE.format(1.25)}")
    commit_file(repo, "src/b.py", "b = 1\n", f"Second feature (#2)\n\n{USAGE.format(0.5)}")
    git(repo, "revert", "--no-edit", first)
    commit_file(repo, "src/c.py", "c = 1\n", "Human change")
    bot = dict(os.environ, GIT_AUTHOR_NAME="dependabot[bot]",
               GIT_AUTHOR_EMAIL="49699333+dependabot[bot]@users.noreply.github.com")
    commit_file(repo, "requirements.txt", "lib==2.0\n", "Bump lib from 1.0 to 2.0", env=bot)
    commit_file(repo, "src/d.py", "d = 1\n", "Agent change\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>")
    return repo


def write_report(repo: Path, name: str = "report.html") -> str:
    out = repo.parent / name
    proc = run_cli("report", "--html", str(out), "--since", "all", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return out.read_text(encoding="utf-8")


def test_report_is_self_contained_and_escapes_git_strings(project: Path) -> None:
    page = write_report(project)
    assert "<script" not in page.lower()  # neither ours (no JavaScript) nor the hostile subject's
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "onerror=alert(1)>" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    assert "<link" not in page and "@import" not in page
    assert page.count("<svg") == 4  # merged, spend, cost per merged change, revert rates; the MI chart needs notes
    assert "No data: no change in this window has maintainability figures" in page
    assert "reverted" in page and "$1.25" in page
    assert "claude-opus-4-6" in page and "usage unknown for 1 of 3 AI-assisted changes" in page


def test_report_draws_the_mi_trend_from_notes(project: Path, tmp_path: Path) -> None:
    head = git(project, "rev-parse", "HEAD~4")  # "Second feature"
    result = {"schema": "commitledger.pr/1", "tests": {"passed": 3, "failed": 1, "errors": 0, "skipped": 0},
              "maintainability": {"files": [{"path": "src/<b>.py", "mi_before": 80.0, "mi_after": 61.0,
                                             "cc_before": 2, "cc_after": 9, "status": "flagged"},
                                            {"path": "svc/billing.go", "mi_before": 51.7, "mi_after": 38.1,
                                             "cc_before": 3, "cc_after": 15, "status": "flagged",
                                             "language": "go", "engine": "bca"}]}}
    (tmp_path / "r.json").write_text(json.dumps(result), encoding="utf-8")
    assert run_cli("note", head, "--result", str(tmp_path / "r.json"), cwd=project).returncode == 0
    page = write_report(project, "with-notes.html")
    assert page.count("<svg") == 5 and "<polyline" in page
    assert "src/&lt;b&gt;.py" in page and "3 passed, 1 failed" in page
    # each file that lost maintainability names its language (a note from before languages were kept: —)
    assert "<td><code>svc/billing.go</code></td><td>Go</td>" in page
    assert "<td><code>src/&lt;b&gt;.py</code></td><td>—</td>" in page


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (CI installs it: apt-get install chromium)")
def test_report_renders_in_headless_chromium(project: Path, tmp_path: Path) -> None:
    page = project.parent / "report.html"
    write_report(project)
    shot = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    env = dict(os.environ, HOME=str(tmp_path))
    subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri()],
        capture_output=True, timeout=120, env=env, check=False,
    )
    assert shot.is_file() and shot.stat().st_size > 0
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 2000)
    colours = set()
    for row in rows[::7]:
        for x in range(0, len(row) - 3, 3 * 5):
            colours.add(row[x : x + 3])
    # a blank page is one colour; text, cards and the blue and red bars make many
    assert len(colours) > 20
    def pixels(rgb: int) -> int:
        return sum(row.count(bytes(((rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF))) for row in rows)

    assert pixels(0x2F6FDE) > 500  # AI-assisted bars and the spend chart were drawn, not just text
    assert pixels(0xC99A06) > 200  # the bot's change has its own colour, apart from human grey
    assert pixels(0x7A8691) > 200
    assert pixels(0xE8883A) > 20  # the AI change of unknown cost is marked, not drawn as $0


def browser_dom(page: Path, tmp_path: Path) -> str:
    """The page as headless Chromium parsed it (``--dump-dom``): what a reader's browser builds from it."""
    env = dict(os.environ, HOME=str(tmp_path))
    proc = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile-dom'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )
    assert proc.returncode == 0 and "</html>" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def visible_text(dom: str) -> str:
    """The text of a DOM outside <style> and <title>, whitespace folded: what the page reads as."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.skip += tag in ("style", "title", "script")

        def handle_endtag(self, tag: str) -> None:
            self.skip -= tag in ("style", "title", "script")

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(dom)
    return " ".join(" ".join(parser.parts).split())


LATE = ("AI-Usage: agent=claude-code model=claude-opus-4-8 sessions=1 requests=4 input=4000 output=2000 "
        "cache_read=400000 cache_write=8000")  # tokens, no cost_usd: unpriced when committed


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (CI installs it: apt-get install chromium)")
def test_priced_later_reads_in_the_page_chromium_renders(project: Path, tmp_path: Path) -> None:
    commit_file(project, "src/e.py", "e = 1\n", f"{HOSTILE} late (#3)\n\n{LATE}")
    page = project.parent / "late.html"
    write_report(project, page.name)
    dom = browser_dom(page, tmp_path)
    text = visible_text(dom)
    # The spend card, its explanation and the costliest change say it, next to the figures.
    assert "$2.07 AI spend known; usage unknown for 1 of 4 AI-assisted changes, including 1 AI-assisted change " \
           "priced later from its tokens" in text
    assert "Priced later: 1 AI-assisted change has AI-Usage lines with tokens but no cost_usd when committed" in text
    assert f"{HOSTILE} late $0.32 priced later 414,000" in text.replace("#3 ", "")
    # The commit's subject stayed text in the browser's DOM: no element came from it.
    assert "<img" not in dom.replace("&lt;img", "") and "<script" not in dom
