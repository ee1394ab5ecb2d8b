"""The action and the workflows parse, and keep the rules that make them safe to run as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import ROOT

yaml = pytest.importorskip("yaml")

ACTION = ROOT / "action.yml"
EXAMPLES = sorted((ROOT / "action").glob("*.yml"))
OWN = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@v\d+$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def triggers(data: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads a bare `on` key as the boolean True.
    on = data.get("on", data.get(True))
    return on if isinstance(on, dict) else {name: None for name in ([on] if isinstance(on, str) else on)}


def steps_of(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "runs" in data:
        yield from data["runs"]["steps"]
    for job in (data.get("jobs") or {}).values():
        yield from job.get("steps", [])


def test_files_exist() -> None:
    assert ACTION.is_file()
    assert {p.name for p in EXAMPLES} >= {"pull-request.yml", "fork-pull-request.yml", "fork-pull-request-post.yml",
                                          "default-branch.yml"}
    assert {p.name for p in OWN} >= {"ci.yml", "commitledger.yml"}


@pytest.mark.parametrize("path", [ACTION, *EXAMPLES, *OWN], ids=lambda p: str(p.relative_to(ROOT)))
def test_run_steps_are_bash_and_never_interpolate(path: Path) -> None:
    data = load(path)
    steps = list(steps_of(data))
    assert steps, path
    for step in steps:
        assert ("run" in step) != ("uses" in step), step
        if "run" in step:
            assert step.get("shell") == "bash", f"{path.name}: {step.get('name')} needs shell: bash"
            assert "${{" not in step["run"], f"{path.name}: {step.get('name')} interpolates into script text"
        else:
            uses = step["uses"]
            assert uses.startswith("./") or PINNED.match(uses), f"{path.name}: {uses} is not pinned to a major version"


def test_action_inputs_outputs_and_env() -> None:
    data = load(ACTION)
    assert data["runs"]["using"] == "composite"
    inputs = data["inputs"]
    for name in ("github-token", "junit", "base", "head", "comment", "max-cost-usd", "fail-on", "python-version"):
        assert name in inputs and "description" in inputs[name], name
    assert inputs["comment"]["default"] == "update"
    assert set(data["outputs"]) == {"cost-usd", "tokens", "tests-failed", "debt-signals"}
    for name, spec in data["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    steps = data["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    run = next(s for s in steps if s.get("id") == "run")
    assert "commitledger.github.action" in run["run"]
    # Every input the entry script reads reaches it through env:, under the name it reads.
    for name in inputs:
        if name in ("python-version", "artifact"):
            continue
        var = "INPUT_" + name.upper().replace("-", "_")
        assert run["env"][var] == f"${{{{ inputs.{name} }}}}", var
    install = next(s for s in steps if s.get("id") == "install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    verdict = steps[-1]
    assert verdict["if"] == "steps.run.outputs.exit-code != '0'"
    download = next(s for s in steps if str(s.get("uses", "")).startswith("actions/download-artifact@"))
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["with"]["github-token"] == "${{ inputs.github-token }}"


def _checkouts(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in steps_of(data) if str(s.get("uses", "")).startswith("actions/checkout@")]


@pytest.mark.parametrize("path", [*EXAMPLES, *OWN], ids=lambda p: p.name)
def test_workflows_are_complete(path: Path) -> None:
    data = load(path)
    assert data.get("name") and triggers(data) and data.get("permissions"), path
    for job in data["jobs"].values():
        assert job["runs-on"] and job["steps"]
    for checkout in _checkouts(data):
        assert checkout.get("with", {}).get("fetch-depth") == 0, f"{path.name}: checkout needs fetch-depth: 0"


def test_pull_request_example_posts() -> None:
    data = load(ROOT / "action" / "pull-request.yml")
    assert "pull_request" in triggers(data)
    assert data["permissions"]["pull-requests"] == "write"
    assert any(str(s.get("uses", "")).startswith("commitledger/commitledger@") for s in steps_of(data))


def test_fork_flow_splits_compute_and_post() -> None:
    compute = load(ROOT / "action" / "fork-pull-request.yml")
    post = load(ROOT / "action" / "fork-pull-request-post.yml")
    assert "pull_request" in triggers(compute) and "pull_request_target" not in triggers(compute)
    assert compute["permissions"] == {"contents": "read"}
    action_step = next(s for s in steps_of(compute) if str(s.get("uses", "")).startswith("commitledger/"))
    assert action_step["with"]["comment"] == "off" and action_step["with"]["artifact"]

    run = triggers(post)["workflow_run"]
    assert run["workflows"] == [compute["name"]] and run["types"] == ["completed"]
    assert post["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert _checkouts(post) == []  # never the fork's code
    poster = next(s for s in steps_of(post) if str(s.get("uses", "")).startswith("commitledger/"))
    assert poster["with"]["artifact"] == action_step["with"]["artifact"]


def test_default_branch_example() -> None:
    data = load(ROOT / "action" / "default-branch.yml")
    on = triggers(data)
    assert "push" in on and on["pull_request"]["types"] == ["closed"]
    assert data["permissions"]["contents"] == "write"


def test_own_workflows() -> None:
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    assert {"push", "pull_request"} <= set(triggers(ci))
    assert any(s.get("run", "").strip() == "bash .ci/run" for s in steps_of(ci))
    own = load(ROOT / ".github" / "workflows" / "commitledger.yml")
    assert "pull_request" in triggers(own)
    assert any(s.get("uses") == "./" for s in steps_of(own))


def _step_script(step_id: str) -> tuple[str, dict[str, str]]:
    step = next(s for s in load(ACTION)["runs"]["steps"] if s.get("id") == step_id or s.get("name") == step_id)
    return step["run"], step.get("env", {})


def test_run_step_script_records_status_and_verdict_replays_it(tmp_path: Path) -> None:
    """The shell glue itself: the entry's status is kept as an output, the step passes, the verdict fails."""
    import os
    import subprocess
    import sys

    script, env_spec = _step_script("run")
    assert set(env_spec) >= {"CL_PYTHON", "INPUT_GITHUB_TOKEN", "COMMITLEDGER_OUT_DIR"}
    outputs = tmp_path / "out.txt"
    summary = tmp_path / "summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env.update({"CL_PYTHON": sys.executable, "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": str(tmp_path / "none.json"),
                "COMMITLEDGER_OUT_DIR": str(tmp_path / "o")})
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert outputs.read_text().rstrip().endswith("exit-code=1")
    assert "could not finish" in summary.read_text()

    verdict = load(ACTION)["runs"]["steps"][-1]
    failed = subprocess.run(["bash", "-c", verdict["run"]], env={**env, "STATUS": "1"}, capture_output=True,
                            text=True, check=False)
    assert failed.returncode == 1
