"""Recordings on disk: JSON Lines, optionally gzip-compressed (PROTOCOL section 2).

Writing merges the simulator's per-sensor chunks into one stream ordered by time and produces
the same bytes for the same input (gzip header without a timestamp or file name). Reading
yields raw lines; the engine parses them and counts the ones that are not valid messages.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import orjson
from isal import igzip
from pydantic import BaseModel, ValidationError

from walkout.sim.timeline import LineChunk, PersonTrack

M = TypeVar("M", bound=BaseModel)

RECORDING_NAMES = ("recording.jsonl.gz", "recording.jsonl")


class RecordingOrderError(ValueError):
    """Chunks handed to the writer would put the recording out of time order."""


class RecordingWriter:
    """Writes merged chunks of lines to ``path`` (gzip when it ends in ``.gz``)."""

    def __init__(self, path: Path, compresslevel: int = 3) -> None:
        self.path = path
        self._raw: io.BufferedIOBase = path.open("wb")
        self._out: io.BufferedIOBase
        if path.suffix == ".gz":
            self._out = gzip.GzipFile(
                filename="", mode="wb", fileobj=self._raw, compresslevel=compresslevel, mtime=0
            )
        else:
            self._out = self._raw
        self.lines = 0
        self.last_t = -np.inf

    def write_window(self, chunks: Iterable[LineChunk]) -> int:
        """Merge one window's chunks by time (stable) and append them; returns lines written."""
        chunk_list = [c for c in chunks if c.lines]
        if not chunk_list:
            return 0
        times = np.concatenate([c.t for c in chunk_list])
        lines = [line for c in chunk_list for line in c.lines]
        order = np.argsort(times, kind="stable")
        if times[order[0]] < self.last_t:
            raise RecordingOrderError(
                f"line at t={times[order[0]]:.3f} after t={self.last_t:.3f} was already written"
            )
        self._out.write(b"\n".join(lines[i] for i in order) + b"\n")
        self.last_t = float(times[order[-1]])
        self.lines += len(lines)
        return len(lines)

    def close(self) -> None:
        if self._out is not self._raw:
            self._out.close()
        self._raw.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def find_recording(directory: Path) -> Path:
    """The recording file in a run directory (``recording.jsonl.gz`` or ``recording.jsonl``)."""
    for name in RECORDING_NAMES:
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"no {' or '.join(RECORDING_NAMES)} in {directory}")


def iter_lines(path: Path, block: int = 1 << 20) -> Iterator[bytes]:
    """The raw lines of a recording, without line endings (blank lines skipped).

    Reads in large blocks (:func:`iter_blocks`): far faster than line-by-line reads through
    gzip. The split is ``bytes.splitlines`` (LF, CRLF or CR: JSON cannot hold a raw CR in a
    line)."""
    rest = b""
    for chunk in iter_blocks(path, block):
        lines = (rest + chunk).splitlines()
        # The block's last line may go on in the next block: carry it over, unless the
        # block ended on LF; with its CR, if it ended on one (the first half of a CRLF?).
        if chunk.endswith(b"\n"):
            rest = b""
        else:
            rest = lines.pop() + (b"\r" if chunk.endswith(b"\r") else b"")
        for line in lines:
            if line and not line.isspace():
                yield line
    rest = rest.removesuffix(b"\r")
    if rest and not rest.isspace():
        yield rest


def iter_blocks(path: Path, block: int = 1 << 20) -> Iterator[bytes]:
    """The raw bytes of a recording, inflated, in blocks of ``block`` bytes (the last may be
    shorter; a line may span two). Gzip files are read with ISA-L (``isal``), which inflates
    them about three times faster than zlib."""
    opener = igzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(block):
            yield chunk


class RunFileError(ValueError):
    """A truth, receipts or other run file that cannot be read, with a one-line reason."""


def read_json(path: Path, model: type[M]) -> M:
    """Read and validate a JSON file as ``model``, raising :class:`RunFileError` on failure."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise RunFileError(f"{path}: {where + ': ' if where else ''}{err['msg']}") from None


def write_json(path: Path, model: BaseModel) -> None:
    """Write a pydantic model as indented, key-stable JSON."""
    data = model.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def write_people(path: Path, people: list[PersonTrack], hz: float = 10.0) -> None:
    """Save people's true motion (downsampled to ``hz``) as a compressed ``.npz``.

    It is ground truth beside ``truth.json``: for plots and for scoring people tracking.
    """
    arrays: dict[str, np.ndarray] = {}
    for p in people:
        step = max(1, round(1.0 / (hz * float(np.median(np.diff(p.t))))) if len(p.t) > 1 else 1)
        key = f"p{p.person}"
        arrays[f"{key}_t"] = p.t[::step]
        arrays[f"{key}_xy"] = p.xy[::step]
        arrays[f"{key}_heading"] = p.heading[::step]
        arrays[f"{key}_hands"] = p.hands[::step]
        arrays[f"{key}_meta"] = np.array([p.token, repr(p.height_m), str(int(p.staff))])
    # Like np.savez_compressed, but with fixed entry times so the same run gives the same bytes.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as fh:
                np.lib.format.write_array(fh, np.asanyarray(array), allow_pickle=False)


def read_people(path: Path) -> list[PersonTrack]:
    """Load people saved by :func:`write_people`, ordered by person index."""
    with np.load(path) as data:
        ids = sorted({int(k[1:].split("_")[0]) for k in data.files})
        people = []
        for i in ids:
            token, height, staff = (str(v) for v in data[f"p{i}_meta"])
            people.append(
                PersonTrack(
                    person=i,
                    token=token,
                    height_m=float(height),
                    t=data[f"p{i}_t"],
                    xy=data[f"p{i}_xy"],
                    heading=data[f"p{i}_heading"],
                    hands=data[f"p{i}_hands"],
                    staff=staff == "1",
                )
            )
    return people
