"""The store-file checker: every problem is reported at its JSON path, by library and CLI."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from walkout.cli import app
from walkout.domain.store import Store, check_store_data
from walkout.storefile import StoreFileError, check_store_file, load_store, store_json

Data = dict[str, Any]

# The PROTOCOL example, with a second product and plate so that duplicates can be made.
VALID: Data = {
    "version": 1,
    "id": "demo",
    "name": "Demo Store",
    "currency": "USD",
    "floor": [[0, 0], [12, 0], [12, 8], [0, 8]],
    "gates": [
        {"id": "entry-1", "kind": "entry", "area": [[0, 3], [1, 3], [1, 5], [0, 5]]},
        {"id": "exit-1", "kind": "exit", "area": [[11, 3], [12, 3], [12, 5], [11, 5]]},
    ],
    "products": [
        {
            "sku": "012000181139",
            "name": "Cola 355 ml",
            "price": 199,
            "weight_g": 368.0,
            "weight_sd_g": 2.5,
            "age_restricted": False,
            "tags": ["drink"],
        },
        {"sku": "012000181146", "name": "Diet Cola 355 ml", "price": 199, "weight_g": 367.0},
    ],
    "plates": [
        {"id": "G4-S1-P1", "box": [[3.27, 0.10, 0.27], [3.48, 0.50, 0.55]], "hz": 60},
        {"id": "G4-S1-P2", "box": [[3.48, 0.10, 0.27], [3.69, 0.50, 0.55]]},
    ],
    "facings": [
        {"sku": "012000181139", "plates": ["G4-S1-P1", "G4-S1-P2"]},
        {"sku": "012000181146", "plates": ["G4-S1-P2"]},
    ],
    "cameras": [
        {
            "id": "cam-100",
            "width": 640,
            "height": 360,
            "fps": 10,
            "K": [[500, 0, 320], [0, 500, 180], [0, 0, 1]],
            "dist": [0, 0, 0, 0, 0],
            "R": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
            "t": [0, 0, 3],
        }
    ],
}


def _set(path: str, value: Any) -> Callable[[Data], None]:
    """A mutation that sets the value at a dotted path such as ``plates.0.box``."""

    def mutate(data: Data) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return mutate


def _append_copy(field: str) -> Callable[[Data], None]:
    """A mutation that appends a copy of the first item of a top-level list."""

    def mutate(data: Data) -> None:
        data[field].append(copy.deepcopy(data[field][0]))

    return mutate


def _drop(path: str) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return mutate


# (case, mutation, expected path, expected message fragment)
CASES: list[tuple[str, Callable[[Data], None], str, str]] = [
    (
        "unknown plate in a facing",
        _set("facings.0.plates.1", "G9-S9-P9"),
        "facings[0].plates[1]",
        "unknown plate 'G9-S9-P9'",
    ),
    (
        "unknown product in a facing",
        _set("facings.1.sku", "999"),
        "facings[1].sku",
        "unknown product",
    ),
    (
        "product faced twice on one plate",
        _set("facings.1.sku", "012000181139"),
        "facings[1].plates[0]",
        "already faced on plate 'G4-S1-P2'",
    ),
    ("duplicate plate id", _append_copy("plates"), "plates[2].id", "duplicate plate id"),
    ("duplicate product", _append_copy("products"), "products[2].sku", "duplicate product id"),
    ("duplicate camera id", _append_copy("cameras"), "cameras[1].id", "duplicate camera id"),
    ("duplicate gate id", _set("gates.1.id", "entry-1"), "gates[1].id", "duplicate gate id"),
    (
        "box with min > max",
        _set("plates.0.box", [[3.27, 0.5, 0.27], [3.48, 0.1, 0.55]]),
        "plates[0].box",
        "box min y = 0.5 is greater than max y = 0.1",
    ),
    (
        "box corner with two numbers",
        _set("plates.0.box", [[3.27, 0.1], [3.48, 0.5, 0.55]]),
        "plates[0].box[0][2]",
        "Field required",
    ),
    (
        "lane with min > max",
        _set("facings.1.box", [[3.6, 0.1, 0.27], [3.5, 0.5, 0.55]]),
        "facings[1].box",
        "box min x = 3.6 is greater than max x = 3.5",
    ),
    (
        "lane away from its plate",
        _set("facings.1.box", [[5.0, 0.1, 0.27], [5.2, 0.5, 0.55]]),
        "facings[1].box",
        "does not meet the box of plate 'G4-S1-P2'",
    ),
    (
        "camera rotation that is not a rotation",
        _set("cameras.0.R", [[1, 0, 0], [0, 1, 0], [0, 0, 2]]),
        "cameras[0].R",
        "R is not a rotation",
    ),
    (
        "camera rotation that is a reflection",
        _set("cameras.0.R", [[1, 0, 0], [0, 1, 0], [0, 0, -1]]),
        "cameras[0].R",
        "det = -1",
    ),
    (
        "camera K not upper triangular",
        _set("cameras.0.K", [[500, 0, 320], [3, 500, 180], [0, 0, 1]]),
        "cameras[0].K",
        "upper triangular",
    ),
    ("product without weight", _drop("products.0.weight_g"), "products[0].weight_g", "required"),
    (
        "product with zero weight",
        _set("products.0.weight_g", 0),
        "products[0].weight_g",
        "greater than 0",
    ),
    ("price in dollars", _set("products.0.price", 1.99), "products[0].price", "integer"),
    ("unknown key", _set("plates.0.colour", "red"), "plates[0].colour", "Extra inputs"),
    ("unknown top-level key", _set("shelves", []), "shelves", "Extra inputs"),
    ("misspelt gate kind", _set("gates.0.kind", "entrance"), "gates[0].kind", "'entry'"),
    ("no entry gate", _set("gates.0.kind", "exit"), "gates", "no entry gate"),
    ("unknown version", _set("version", 2), "version", "1"),
    ("lower-case currency", _set("currency", "usd"), "currency", "pattern"),
]


@pytest.mark.parametrize(
    ("mutation", "path", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_problem_is_reported_at_its_path(
    mutation: Callable[[Data], None], path: str, fragment: str
) -> None:
    data = copy.deepcopy(VALID)
    mutation(data)
    problems = check_store_data(data)
    assert [p.path for p in problems] == [path]
    assert fragment in problems[0].message
    assert problems[0].render() == f"{path}: {problems[0].message}"


def test_valid_store_has_no_problems() -> None:
    assert check_store_data(copy.deepcopy(VALID)) == []


def test_every_reference_problem_is_listed_not_just_the_first() -> None:
    data = copy.deepcopy(VALID)
    data["facings"][0]["plates"] = ["nope-1", "G4-S1-P2", "nope-2"]
    data["plates"].append(copy.deepcopy(data["plates"][0]))
    paths = [p.path for p in check_store_data(data)]
    assert paths == ["plates[2].id", "facings[0].plates[0]", "facings[0].plates[2]"]


def test_every_field_problem_is_listed() -> None:
    data = copy.deepcopy(VALID)
    del data["products"][0]["weight_g"]
    data["cameras"][0]["R"] = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    paths = [p.path for p in check_store_data(data)]
    assert paths == ["products[0].weight_g", "cameras[0].R"]


def test_defaults_are_filled_in() -> None:
    store = Store.model_validate(copy.deepcopy(VALID))
    diet = store.product("012000181146")
    assert diet.weight_sd_g == pytest.approx(3.67)
    assert diet.age_restricted is False
    assert diet.tags == []
    assert store.plate("G4-S1-P2").hz == 60
    assert store.skus_on("G4-S1-P2") == ("012000181139", "012000181146")


# --- files -----------------------------------------------------------------------------------


def _bytes(tmp_path: Path, raw: bytes) -> Path:
    path = tmp_path / "store.json"
    path.write_bytes(raw)
    return path


def _write(tmp_path: Path, data: Data) -> Path:
    return _bytes(tmp_path, orjson.dumps(data))


FILE_CASES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("malformed JSON", lambda d: _bytes(d, b'{"version": 1,'), "not valid JSON"),
    ("not UTF-8", lambda d: _bytes(d, b'{"id": "\xff"}'), "not valid JSON"),
    ("a JSON array", lambda d: _bytes(d, b"[1, 2]"), "must be a JSON object"),
    ("a directory", lambda d: d, "cannot read file"),
    ("a missing file", lambda d: d / "nope.json", "cannot read file"),
]


@pytest.mark.parametrize(
    ("make", "fragment"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_unusable_files_are_one_root_problem(
    tmp_path: Path, make: Callable[[Path], Path], fragment: str
) -> None:
    path = make(tmp_path)
    problems = check_store_file(path)
    assert len(problems) == 1
    assert problems[0].path == ""
    assert fragment in problems[0].message
    assert problems[0].render().startswith("<root>: ")
    with pytest.raises(StoreFileError, match=fragment):
        load_store(path)


def test_load_store_reports_the_first_problem_and_how_many_more(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    data["facings"][0]["plates"] = ["nope-1", "nope-2"]
    path = _write(tmp_path, data)
    with pytest.raises(StoreFileError) as info:
        load_store(path)
    assert len(info.value.problems) == 2
    assert str(info.value) == f"{path}: facings[0].plates[0]: unknown plate 'nope-1' (+1 more)"


# --- the CLI ---------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_valid_store_prints_ok(tmp_path: Path) -> None:
    path = _write(tmp_path, copy.deepcopy(VALID))
    result = runner.invoke(app, ["store", "check", str(path)])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{path}: ok"
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("mutation", "path", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_cli_reports_each_problem_and_a_one_line_summary(
    tmp_path: Path, mutation: Callable[[Data], None], path: str, fragment: str
) -> None:
    data = copy.deepcopy(VALID)
    mutation(data)
    file = _write(tmp_path, data)
    result = runner.invoke(app, ["store", "check", str(file)])
    assert result.exit_code == 1
    assert result.stdout == ""
    *details, summary = result.stderr.splitlines()
    assert summary == f"error: 1 problem(s) in {file}"
    assert len(details) == 1
    assert details[0].startswith(f"{file}: {path}: ")
    assert fragment in details[0]


@pytest.mark.parametrize(
    ("make", "fragment"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_cli_unusable_files(tmp_path: Path, make: Callable[[Path], Path], fragment: str) -> None:
    file = make(tmp_path)
    result = runner.invoke(app, ["store", "check", str(file)])
    assert result.exit_code == 1
    detail, summary = result.stderr.splitlines()
    assert detail.startswith(f"{file}: <root>: ")
    assert fragment in detail
    assert summary == f"error: 1 problem(s) in {file}"


def test_cli_prints_ids_with_brackets_verbatim(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    data["facings"][0]["plates"][0] = "shelf[b]1"
    file = _write(tmp_path, data)
    result = runner.invoke(app, ["store", "check", str(file)])
    assert result.exit_code == 1
    assert "unknown plate 'shelf[b]1'" in result.stderr


def test_lanes_are_optional_clipped_to_their_plates_and_written_only_when_given() -> None:
    data = copy.deepcopy(VALID)
    # The diet cola stands in the right part of the second plate; its lane reaches past it.
    data["facings"][1]["box"] = [[3.6, 0.0, 0.0], [3.8, 0.6, 0.6]]
    store = Store.model_validate(data)
    assert store.lanes_on("G4-S1-P2") == {"012000181146": ((3.6, 0.1, 0.27), (3.69, 0.5, 0.55))}
    assert store.lanes_on("G4-S1-P1") == {}
    written = orjson.loads(store_json(store))
    assert "box" not in written["facings"][0]  # PROTOCOL-exact where there is no lane
    assert written["facings"][1]["box"] == [[3.6, 0.0, 0.0], [3.8, 0.6, 0.6]]
    assert Store.model_validate(written) == store
