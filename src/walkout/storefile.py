"""Reading store files from disk, with every problem reported by its JSON path."""

from __future__ import annotations

from pathlib import Path

import orjson

from walkout.domain.store import Store, StoreProblem, check_store_data


class StoreFileError(ValueError):
    """A store file that cannot be used, with all of its problems."""

    def __init__(self, path: Path, problems: list[StoreProblem]) -> None:
        self.path = path
        self.problems = problems
        first = problems[0].render() if problems else "invalid"
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{path}: {first}{more}")

    def __reduce__(self) -> tuple[type[StoreFileError], tuple[Path, list[StoreProblem]]]:
        # Rebuilt from its own arguments (not the message), so it survives pickling: a bench
        # phase raises it in a worker process.
        return StoreFileError, (self.path, self.problems)


def check_store_file(path: Path) -> list[StoreProblem]:
    """Every problem of the store file at ``path``; empty when it is valid."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [StoreProblem("", f"cannot read file: {exc.strerror or exc}")]
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return [StoreProblem("", f"not valid JSON: {exc}")]
    if not isinstance(data, dict):
        return [StoreProblem("", "a store file must be a JSON object")]
    return check_store_data(data)


def load_store(path: Path) -> Store:
    """Load and validate a store file, raising :class:`StoreFileError` on any problem."""
    problems = check_store_file(path)
    if problems:
        raise StoreFileError(path, problems)
    return Store.model_validate_json(path.read_bytes())


def store_json(store: Store) -> bytes:
    """The canonical, stable serialisation of a store file (two-space indent, trailing newline)."""
    data = store.model_dump(mode="json", exclude_defaults=False)
    return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
