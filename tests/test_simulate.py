"""A whole simulated run, through the CLI: files, validity, ordering, truth, determinism."""

from __future__ import annotations

import gzip
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from walkout.cli import app
from walkout.domain.messages import GateMsg, WeightMsg, parse_message
from walkout.domain.truth import Truth
from walkout.recording import iter_lines, read_json, read_people
from walkout.storefile import load_store

ROOT = Path(__file__).resolve().parents[1]
CORNER = ROOT / "examples" / "stores" / "corner.json"
runner = CliRunner()


def simulate(out: Path, *args: str) -> None:
    result = runner.invoke(app, ["simulate", "--store", str(CORNER), "--out", str(out), *args])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    simulate(out, "--scenario", "busy", "--minutes", "0.5", "--shoppers", "4", "--seed", "3")
    return out


def test_run_directory_has_the_protocol_files(run_dir: Path) -> None:
    for name in ("store.json", "recording.jsonl.gz", "truth.json", "people.npz"):
        assert (run_dir / name).is_file(), name
    assert load_store(run_dir / "store.json") == load_store(CORNER)


def test_every_line_validates_and_time_is_ordered(run_dir: Path) -> None:
    last = -np.inf
    kinds: dict[str, int] = defaultdict(int)
    for line in iter_lines(run_dir / "recording.jsonl.gz"):
        msg = parse_message(line)
        kinds[msg.type] += 1
        assert msg.t >= last
        last = msg.t
    assert set(kinds) >= {"weight", "pose", "gate"}


def test_each_person_enters_on_a_scanned_token(run_dir: Path) -> None:
    truth = read_json(run_dir / "truth.json", Truth)
    scans = [
        m
        for m in map(parse_message, iter_lines(run_dir / "recording.jsonl.gz"))
        if isinstance(m, GateMsg)
    ]
    people = read_people(run_dir / "people.npz")
    assert len(scans) == len(people) == sum(s.people for s in truth.sessions)
    for person in people:
        mine = [s for s in scans if s.token == person.token and s.t <= person.t_enter + 5.0]
        assert mine, f"person {person.person} entered without a scan of {person.token}"


def level(times: np.ndarray, grams: np.ndarray, a: float, b: float) -> float:
    window = (times >= a) & (times < b) & ~np.isnan(grams)
    return float(np.median(grams[window]))


def test_truth_events_are_steps_of_the_right_size(run_dir: Path) -> None:
    """Each isolated pick or put shows on its plate as a step of about the units' weight."""
    store = load_store(CORNER)
    truth = read_json(run_dir / "truth.json", Truth)
    traces: dict[str, list[tuple[float, list[float | None]]]] = defaultdict(list)
    for line in iter_lines(run_dir / "recording.jsonl.gz"):
        if b'"weight"' in line:
            msg = parse_message(line)
            assert isinstance(msg, WeightMsg)
            traces[msg.plate].append((msg.t, msg.g))
    by_plate = defaultdict(list)
    for e in truth.events:
        by_plate[e.plate].append(e.t)
    checked = 0
    for e in truth.events:
        if e.kind not in ("pick", "put", "misplace"):
            continue
        if any(0 < abs(t - e.t) < 4.0 for t in by_plate[e.plate]):
            continue  # overlapping events on one plate: their sum is checked by the unit tests
        rows = traces[e.plate]
        times = np.concatenate([t + np.arange(len(g)) / 60.0 for t, g in rows])
        grams = np.array([np.nan if v is None else v for _, g in rows for v in g])
        step = level(times, grams, e.t + 1.0, e.t + 2.0) - level(times, grams, e.t - 2.0, e.t - 1.0)
        product = store.product(e.sku)
        expected = e.qty * product.weight_g * (-1 if e.kind == "pick" else 1)
        tolerance = 4 * product.weight_sd_g * np.sqrt(e.qty) + 15.0
        assert step == pytest.approx(expected, abs=tolerance), e
        checked += 1
    assert checked > 0


def test_same_seed_same_bytes(run_dir: Path, tmp_path: Path) -> None:
    simulate(tmp_path, "--scenario", "busy", "--minutes", "0.5", "--shoppers", "4", "--seed", "3")
    for name in ("recording.jsonl.gz", "truth.json", "people.npz", "store.json"):
        assert (tmp_path / name).read_bytes() == (run_dir / name).read_bytes(), name
    with gzip.open(tmp_path / "recording.jsonl.gz") as fh:
        assert fh.readline()  # and it is a real gzip stream


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "lunchtime"], "unknown scenario 'lunchtime'"),
        (["--minutes", "0"], "--minutes must be > 0"),
        (["--shoppers", "-1"], "--shoppers must be >= 0"),
    ],
)
def test_bad_arguments_fail_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["simulate", "--store", str(CORNER), "--out", str(tmp_path), *args])
    assert result.exit_code == 1
    assert message in result.output
    assert len([ln for ln in result.output.splitlines() if ln.startswith("error:")]) == 1


def test_malformed_store_fails_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "id": "x"')
    result = runner.invoke(app, ["simulate", "--store", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "not valid JSON" in result.output
