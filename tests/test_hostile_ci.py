"""Issue 14, the CI side: a hostile result file, racing posts, a hostile server, hostile inputs.

Every case here failed on the code before the hardening (issue 14 items 1,
9, 10, 11, 13, 15 and 16); each test names its item.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commitledger.errors import CommitledgerError
from commitledger.github.action import load_result
from commitledger.render.markdown import render_comment
from commitledger.render.marker import parse_marker
from conftest import run_cli
from test_render_comment import ALLOWED_TAGS, HEAD, sample_result, to_html

# --- item 1: a result file is validated, then every string is escaped ---

HOSTILE_STRINGS = (
    "abc --> <img src=x onerror=alert(1)>",
    "[click](https://evil.example)",
    "![t](https://evil.example/t.png)",
    "@everyone",
    "<script>alert(1)</script>",
)


def sample_json() -> dict[str, Any]:
    return json.loads(json.dumps(sample_result().dump()))


def write_result(data: dict[str, Any], directory: Path) -> Path:
    path = directory / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def put(data: dict[str, Any], where: str, value: Any) -> None:
    """Set ``data`` at a dotted path (``commit_list.0.commit``)."""
    *parents, last = where.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


# Fields whose value is part of the comment's structure (the marker, a cell
# printed as is) or a figure: each must be refused when it is not what
# `commitledger pr` writes.
CONSTRAINED = [
    ("head", HOSTILE_STRINGS[0]),
    ("head", "abc"),  # hex, but not a full object id
    ("base", HOSTILE_STRINGS[1]),
    ("merge_base", "g" * 40),
    ("commit_list.0.commit", HOSTILE_STRINGS[2]),
    ("commit_list.0.key", "0a1b,c,1,1;ff"),  # would forge digest entries
    ("reverts.0.commit", HOSTILE_STRINGS[3]),
    ("reverts.0.reverts", "HEAD~1"),
    ("maintainability.files.0.rank_before", HOSTILE_STRINGS[1]),
    ("maintainability.files.0.rank_after", "D"),
    ("maintainability.files.0.status", HOSTILE_STRINGS[2]),
    ("signals.0.id", HOSTILE_STRINGS[3]),
    ("signals.0.id", "tests-faild"),
    ("signals.0.severity", "<b>"),
    ("generated_at", "2026 --> <img>"),
    ("usage.cost_usd", -7.5),
    ("usage.input", -1),
    ("tests.failed", -3),
    ("lines.source_added", -10),
    ("commits", -1),
    ("baseline.revert_rate_ai", 7.0),
    ("baseline.median_ai_cost_usd", -1.0),
    ("by_model.0.cost_usd", -0.25),
    ("maintainability.files.0.worst_cc_after", -4),
]


@pytest.mark.parametrize(("where", "value"), CONSTRAINED, ids=[f"{w}={v!r}"[:60] for w, v in CONSTRAINED])
def test_result_file_with_a_bad_value_is_refused(tmp_path: Path, where: str, value: Any) -> None:
    data = sample_json()
    put(data, where, value)
    with pytest.raises(CommitledgerError) as err:
        load_result(write_result(data, tmp_path))
    message = str(err.value)
    assert "\n" not in message and "commitledger.pr/1" in message
    assert "<img" not in message and "evil" not in message  # the error does not echo the value


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(tmp_path: Path, number: str) -> None:
    text = json.dumps(sample_json()).replace('"cost_usd": 4.21', f'"cost_usd": {number}', 1)
    assert number in text
    path = tmp_path / "result.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommitledgerError, match="commitledger.pr/1"):
        load_result(path)


def test_discarded_work_key_is_validated(tmp_path: Path) -> None:
    data = sample_json()
    data["discarded_work"]["x --> <img src=x>"] = data["discarded_work"].pop("9f8e7d6c5b4a")
    with pytest.raises(CommitledgerError) as err:
        load_result(write_result(data, tmp_path))
    assert "<img" not in str(err.value) and "…" in str(err.value)


def test_sha256_ids_are_valid_shas(tmp_path: Path) -> None:
    data = sample_json()
    data["head"] = "ab" * 32
    data["commit_list"][0]["commit"] = "cd" * 32
    loaded = load_result(write_result(data, tmp_path))
    assert parse_marker(render_comment(loaded)).head == "ab" * 32  # type: ignore[union-attr]


def test_github_post_refuses_a_hostile_result_before_any_request(tmp_path: Path) -> None:
    """End to end through the CLI: the head would close the marker early; nothing is sent anywhere."""
    data = sample_json()
    data["head"] = "abc --> <img src=x onerror=alert(1)>"
    path = write_result(data, tmp_path)
    env = {**os.environ, "GITHUB_TOKEN": "ghs_unused", "GITHUB_API_URL": "http://127.0.0.1:9"}
    proc = run_cli("github", "post", "--result", str(path), "--repo", "octo/widgets", "--pr", "1", cwd=tmp_path,
                   env=env)
    assert proc.returncode == 2, proc.stderr
    assert "commitledger.pr/1" in proc.stderr and "head" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_marker_never_writes_an_unvalidated_head() -> None:
    """A copy made with model_copy skips validation; format_marker checks the head itself."""
    result = sample_result().model_copy(update={"head": "abc --> <img src=x>"})
    with pytest.raises(CommitledgerError, match="head"):
        render_comment(result)


def test_a_raw_field_in_the_template_is_escaped_anyway() -> None:
    """Escaping does not depend on each template line remembering its filter."""
    import jinja2

    from commitledger.render.markdown import _environment

    template = _environment().from_string("{{ x }}|{{ n }}|{{ x | text }}")
    out = template.render(x="[click](https://evil.example) @everyone <img src=x>", n=3)
    raw, number, filtered = out.split("|", 2)
    assert raw == filtered and number == "3"
    assert "<img" not in raw and "](" not in raw and "@everyone" not in raw
    assert isinstance(_environment(), jinja2.Environment)


# Every free-text field of the sample result (the rest are constrained and validated above).
FREE_TEXT = [
    "by_model.0.agent", "by_model.0.model", "by_model.1.agent", "by_model.1.model",
    "tests.failures.0",
    "maintainability.files.0.path", "maintainability.files.1.path", "maintainability.files.2.path",
    "maintainability.files.2.reason", "maintainability.files.0.worst_function", "maintainability.files.1.worst_function",
    "signals.0.message", "signals.1.message", "signals.2.message",
    "commit_list.0.subject", "commit_list.1.subject", "commit_list.2.subject", "commit_list.3.subject",
    "commit_list.4.subject", "commit_list.0.agents.0", "commit_list.2.agents.0", "commit_list.3.markers.0",
    "warnings.0",
]

MARKUP = st.text(alphabet="<>&@[]()!`*_#|~$\\:/-.+= \n\t\u202ejavscrpthimgwe0123456789", max_size=40)
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
TEXT = MARKUP | ANY_TEXT | st.sampled_from(HOSTILE_STRINGS + ("", " ", "<!--", "-->", "|", "\\|"))


def structure(body: str) -> dict[str, Any]:
    """What a reader could be made to see: tags (code spans aside: an empty value shows "—"), links, mentions."""
    html = to_html(body)
    outside_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    return {
        "tags": [t for t in re.findall(r"<(/?[a-zA-Z][a-zA-Z0-9]*)", html) if t.lstrip("/") != "code"],
        "comments": html.count("<!--"),
        "links": len(re.findall(r"(?i)<a\b|<img\b|https?://|www\.", outside_code)),
        "mentions": len(re.findall(r"@[A-Za-z0-9_-]", outside_code)),
        "first_line": re.sub(r"digest=\S+", "digest=…", body.split("\n", 1)[0]),
        "lines": body.count("\n"),
    }


def _baseline_structure() -> dict[str, Any]:
    data = sample_json()
    data["warnings"] = ["x"]
    for where in FREE_TEXT:
        put(data, where, "x")
    with tempfile.TemporaryDirectory() as tmp:
        return structure(render_comment(load_result(write_result(data, Path(tmp)))))


BASELINE = _baseline_structure()


def assert_same_structure(body: str) -> None:
    got = structure(body)
    assert got == BASELINE
    tags = {t.lstrip("/") for t in got["tags"]}
    assert tags <= ALLOWED_TAGS
    marker = parse_marker(body)
    assert marker is not None and marker.head == HEAD


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT, min_size=len(FREE_TEXT), max_size=len(FREE_TEXT)))
def test_hostile_result_file_cannot_change_the_comment_structure(values: list[str]) -> None:
    """Hypothesis strings in every free-text field of a result *file*: same tags, no link, image or mention."""
    data = sample_json()
    data["warnings"] = ["x"]
    for where, value in zip(FREE_TEXT, values):
        put(data, where, value)
    with tempfile.TemporaryDirectory() as tmp:
        body = render_comment(load_result(write_result(data, Path(tmp))))
    assert_same_structure(body)


CONSTRAINED_FIELDS = {
    "head": HEAD, "base": sample_json()["base"], "commit_list.0.commit": sample_json()["commit_list"][0]["commit"],
    "commit_list.0.key": "0a1b2c3d4e5f", "reverts.0.commit": sample_json()["reverts"][0]["commit"],
    "maintainability.files.0.rank_before": "A", "maintainability.files.0.status": "flagged",
    "signals.0.id": "tests-failed", "generated_at": "2026-11-20T10:02:11Z",
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({k: st.just(v) | TEXT for k, v in CONSTRAINED_FIELDS.items()}),
       st.lists(TEXT, min_size=len(FREE_TEXT), max_size=len(FREE_TEXT)))
def test_every_string_field_hostile_is_refused_or_inert(constrained: dict[str, str], free: list[str]) -> None:
    """Strings everywhere, the vocabulary fields included: the file is refused, or the comment keeps its shape."""
    data = sample_json()
    data["warnings"] = ["x"]
    for where, value in [*constrained.items(), *zip(FREE_TEXT, free)]:
        put(data, where, value)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = load_result(write_result(data, Path(tmp)))
        except CommitledgerError as exc:
            assert "\n" not in str(exc)
            return
        body = render_comment(result)
    assert_same_structure(body)
    assert not math.isnan(result.usage.cost_usd or 0.0)
