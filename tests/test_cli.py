"""The command line as a new user meets it: every command listed, pictures drawn, bad input
answered with one line and exit code 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from walkout.cli import app
from walkout.domain.truth import Truth
from walkout.recording import iter_lines, read_json

ROOT = Path(__file__).resolve().parents[1]
CORNER = ROOT / "examples" / "stores" / "corner.json"
PNG = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def one_line_error(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    errors = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-run")
    ok("simulate", "--store", str(CORNER), "--out", str(out), "--scenario", "quiet",
       "--minutes", "0.4", "--shoppers", "2", "--seed", "11", "--vision", "track")  # fmt: skip
    return out


def test_help_lists_every_command() -> None:
    output = ok("--help")
    for command in ("store", "simulate", "replay", "score", "plot", "bench", "demo", "import"):
        assert command in output


def test_store_new_reproduces_the_example(tmp_path: Path) -> None:
    out = tmp_path / "corner.json"
    ok("store", "new", "--template", "corner", "--out", str(out))
    assert out.read_bytes() == CORNER.read_bytes()


def test_plots_are_drawn(run_dir: Path, tmp_path: Path) -> None:
    truth = read_json(run_dir / "truth.json", Truth)
    plate = next(e.plate for e in truth.events if e.kind == "pick")
    floor, weight = tmp_path / "floor.png", tmp_path / "weight.png"
    ok("plot", "floor", "--run", str(run_dir), "--out", str(floor))
    ok("plot", "weight", "--run", str(run_dir), "--plate", plate, "--out", str(weight))
    for png in (floor, weight):
        data = png.read_bytes()
        assert data.startswith(PNG)
        assert len(data) > 20_000  # a real picture, not an empty canvas


def test_replay_then_score(run_dir: Path, tmp_path: Path) -> None:
    ok("replay", str(run_dir), "--out", str(tmp_path))
    receipts = json.loads((tmp_path / "receipts.json").read_text())
    assert receipts["receipts"]
    assert (tmp_path / "evidence.jsonl").stat().st_size > 0
    output = ok("score", "--truth", str(run_dir / "truth.json"),
                "--receipts", str(tmp_path / "receipts.json"), "--json")  # fmt: skip
    doc = json.loads(output)
    assert doc["sessions"] == len(read_json(run_dir / "truth.json", Truth).sessions)
    assert 0.0 <= doc["f1"] <= 1.0
    assert isinstance(doc["wrong"], list)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["plot", "weight", "--run", "RUN", "--plate", "no-such-plate"], "no-such-plate"),
        (["score", "--truth", "missing.json", "--receipts", "missing.json"], "cannot read"),
        (["replay", "nowhere"], "nowhere"),
        (["import", "aifi", "nowhere", "--out", "x"], "not a directory"),
        (["bench", "--phase", "sideways"], "--phase"),
        (["plot", "floor"], "give --store or --run"),
    ],
)
def test_bad_input_gets_one_line(run_dir: Path, args: list[str], fragment: str) -> None:
    line = one_line_error(*[str(run_dir) if a == "RUN" else a for a in args])
    assert fragment in line


def test_bench_reports_a_bad_run_in_one_line(run_dir: Path, tmp_path: Path) -> None:
    """The replay phase runs in a worker process; what it rejects still reaches the user as
    one line (a store file's error survives the trip back)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "store.json").write_bytes((run_dir / "store.json").read_bytes())
    assert "no recording" in one_line_error("bench", "--phase", "replay", "--out", str(empty))
    bad_store = tmp_path / "bad-store"
    bad_store.mkdir()
    (bad_store / "store.json").write_text('{"version": 1}')
    line = one_line_error("bench", "--phase", "replay", "--out", str(bad_store))
    assert "store.json: id: Field required" in line


def test_score_rejects_a_malformed_receipts_file(run_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "receipts.json"
    bad.write_text('{"receipts": [{"token": "T1", "items": {"a": -1}}]}')
    line = one_line_error("score", "--truth", str(run_dir / "truth.json"), "--receipts", str(bad))
    assert "receipts" in line


def test_simulate_writes_appearance_descriptors_unless_told_not_to(tmp_path: Path) -> None:
    """Pose detections carry appearance descriptors by default (ADR 14); --no-appearance
    leaves them out and changes nothing else in the recording."""
    recordings = {}
    for flag in ("--appearance", "--no-appearance"):
        out = tmp_path / flag
        ok("simulate", "--store", str(CORNER), "--out", str(out), "--scenario", "quiet",
           "--minutes", "0.1", "--shoppers", "1", "--seed", "12", flag)  # fmt: skip
        recordings[flag] = [json.loads(line) for line in iter_lines(out / "recording.jsonl.gz")]
    with_app, without = recordings["--appearance"], recordings["--no-appearance"]
    people = [p for m in with_app if m["type"] == "pose" for p in m["people"]]
    assert people
    assert all(len(p["app"]) == 8 for p in people)
    for msg in with_app:
        for p in msg.get("people", []):
            del p["app"]
    assert with_app == without
