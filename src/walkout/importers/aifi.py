"""Import a test case of AiFi's AutoCheckout competition (CPS-IoT Week 2020).

A case is a folder of MongoDB exports, one JSON document per line (``mongoexport``; a
``--jsonArray`` export also works), with extended-JSON wrappers such as
``{"$numberLong": "2"}``, ``{"$date": ...}`` or ``{"$oid": ...}`` anywhere:

- ``products.json``: ``product_id.id`` (UPC), ``metadata.name``, ``metadata.price`` in dollars and
  ``metadata.weight`` in grams.
- ``planogram.json``: one facing per document, ``planogram_product_id.id`` (empty for an empty
  plate), ``plate_ids[]`` and ``global_coordinates`` (``transform.translation`` of the facing's
  corner in metres, absent axes 0, an optional ``transform.rotation`` quaternion, and the
  facing's size ``dim_x``, ``dim_y``, ``dim_z``).
- ``plate_data.json``: one document per gondola every 0.2 s; ``document.plate_data.values`` is a
  base64 array of shape ``[samples, shelves, plates]`` indexed by ``shelf_index`` and
  ``plate_index`` (NaN where no plate), sampled at ``freq_samp`` Hz from ``timestamp``.
- ``full_targets.json`` (or ``targets.json``): people tracked by AiFi's vision system, in inches:
  ``head.point`` and ``hands[].point`` (older cases: ``l_wrist.point`` and ``r_wrist.point``).

How walkout's store is derived from it:

- Plates are the load cells that both report a weight and appear in the planogram; their id is
  ``G{gondola}-S{shelf}-P{plate}``. A plate's box is the union of its facings' product volumes,
  widened by :data:`REACH_M` on every horizontal side (the planogram does not say which side is
  the aisle) and raised by :data:`ABOVE_M` above the products.
- Products without a weight or a price are left out and listed in the report: the weight is what
  the load cells measure, and a guessed one would turn every pick of them into a wrong line.
  Published competitors' solutions skip them too.
- Gates: the tracker starts and ends each target where people enter and leave, so the entry
  gate is a square of side 2 × :data:`GATE_HALF_M` around the median of the targets' first head
  positions and the exit gate one around the median of their last. Each target gets a ``gate``
  message (token = target id) at its first appearance, just before its first ``track``.
- The floor is the bounding rectangle of plates, people and gates, with :data:`FLOOR_MARGIN_M`
  around it; each gondola becomes a ``fixtures`` entry. There are no cameras (track mode).

Assumed, as the format does not say: a plate document's ``timestamp`` is its first sample's
time, and targets (once in metres) share the planogram's world frame.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson
from numpy.typing import NDArray
from pydantic import ValidationError

from walkout.domain.store import Store, format_path
from walkout.recording import RecordingWriter
from walkout.sim.timeline import LineChunk
from walkout.storefile import store_json

FloatArray = NDArray[np.float64]
T = TypeVar("T")

INCH_M = 0.0254
#: Horizontal reach around a facing's products that still counts as touching its plate.
REACH_M = 0.2
#: Height above a facing's products that still counts as touching its plate.
ABOVE_M = 0.3
#: Half the side of the square entry and exit gates.
GATE_HALF_M = 0.5
#: Free floor around everything that the case shows.
FLOOR_MARGIN_M = 1.0
#: Coordinates are rounded to 0.1 mm, far below what the tracker resolves.
_DECIMALS = 4

PRODUCTS_FILE = "products.json"
PLANOGRAM_FILE = "planogram.json"
PLATE_DATA_FILE = "plate_data.json"
TARGET_FILES = ("full_targets.json", "targets.json")

_DTYPES: dict[str, type[np.floating[Any]]] = {
    "DATATYPE_FLOAT32": np.float32,
    "DATATYPE_FLOAT64": np.float64,
}


class AifiFormatError(ValueError):
    """A case that cannot be imported, with a one-line reason naming the file and line."""


@dataclass(frozen=True)
class SkippedProduct:
    """A product of ``products.json`` left out of the store, and why."""

    sku: str
    name: str
    reason: str


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote and what it had to leave out."""

    store_path: Path
    recording_path: Path
    products: int
    plates: int
    facings: int
    targets: int
    weight_messages: int
    track_messages: int
    gate_messages: int
    t_start: float
    t_end: float
    skipped_products: tuple[SkippedProduct, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, order=True)
class PlateKey:
    """A load cell's address in the case: gondola, shelf index and plate index."""

    gondola: int
    shelf: int
    plate: int

    @property
    def id(self) -> str:
        return f"G{self.gondola}-S{self.shelf}-P{self.plate}"


@dataclass(frozen=True)
class PlateBatch:
    """One ``plate_data`` document: ``samples (n, shelves, plates)`` from ``t`` at ``hz``."""

    gondola: int
    t: float
    hz: float
    samples: NDArray[np.floating[Any]]

    def has(self, key: PlateKey) -> bool:
        n_shelves, n_plates = self.samples.shape[1:]
        return key.gondola == self.gondola and key.shelf < n_shelves and key.plate < n_plates

    def weight_lines(self, keys: Iterable[PlateKey]) -> list[bytes]:
        """Serialised ``weight`` messages of the given plates that this batch holds.

        Each sample is written as the shortest decimal that reads back to the same float
        (numpy's vectorised repr, much faster than a JSON encoder here); NaN becomes null.
        """
        held = [key for key in keys if self.has(key)]
        columns = self.samples[:, [k.shelf for k in held], [k.plate for k in held]]
        text = np.where(np.isfinite(columns), columns.astype(str), "null").T.tolist()
        start = f'"t":{self.t!r},"hz":{self.hz!r},"g":['
        return [
            f'{{"type":"weight","plate":"{key.id}",{start}{",".join(g)}]}}'.encode()
            for key, g in zip(held, text, strict=True)
        ]

    def sensed(self) -> Iterator[PlateKey]:
        """The plates with at least one finite sample in this batch."""
        mask = np.isfinite(self.samples).any(axis=0)
        for shelf, plate in np.argwhere(mask):
            yield PlateKey(self.gondola, int(shelf), int(plate))


@dataclass(frozen=True)
class TargetPose:
    """One tracked person in one frame, in metres."""

    id: str
    head: tuple[float, float, float]
    hands: tuple[tuple[float, float, float], ...]


@dataclass(frozen=True)
class TargetFrame:
    """One ``full_targets`` document: everyone the tracker saw at ``t`` (with a head position)."""

    t: float
    targets: tuple[TargetPose, ...]


@dataclass(frozen=True)
class _Doc:
    where: str
    data: dict[str, Any]


@dataclass
class _Located:
    """A plate's facing volumes and the products faced on it, from the planogram."""

    lo: list[FloatArray] = field(default_factory=list)
    hi: list[FloatArray] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)


# --- extended JSON -------------------------------------------------------------------------


def unwrap_extended_json(value: Any) -> Any:
    """Replace MongoDB extended-JSON wrappers by plain values, recursively.

    Numbers become ``int``/``float`` (``{"$numberDouble": "NaN"}`` is NaN), ``$date`` becomes
    epoch seconds, ``$oid`` a string and ``$binary`` its base64 text.
    """
    if isinstance(value, dict):
        if value and len(value) <= 2:
            key = next(iter(value))
            if key in _WRAPPERS:
                return _WRAPPERS[key](value)
        return {k: unwrap_extended_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_extended_json(v) for v in value]
    return value


def _wrapped_text(value: dict[str, Any], key: str) -> str:
    inner = value[key]
    if not isinstance(inner, str):
        raise AifiFormatError(f"{key} must wrap a string, got {_short(inner)}")
    return inner


def _int_wrapper(key: str) -> Callable[[dict[str, Any]], int]:
    def unwrap(value: dict[str, Any]) -> int:
        text = _wrapped_text(value, key)
        try:
            return int(text)
        except ValueError:
            raise AifiFormatError(f"bad {key} value {_short(text)}") from None

    return unwrap


def _float_wrapper(key: str) -> Callable[[dict[str, Any]], float]:
    def unwrap(value: dict[str, Any]) -> float:
        text = _wrapped_text(value, key)
        try:
            return float(text)
        except ValueError:
            raise AifiFormatError(f"bad {key} value {_short(text)}") from None

    return unwrap


def _date(value: dict[str, Any]) -> float:
    inner = unwrap_extended_json(value["$date"])
    if isinstance(inner, bool):
        raise AifiFormatError(f"bad $date value {_short(inner)}")
    if isinstance(inner, int | float):
        return float(inner) / 1000.0
    if isinstance(inner, str):
        try:
            when = datetime.fromisoformat(inner)
        except ValueError:
            pass
        else:  # a date without a zone is UTC, as MongoDB stores dates
            return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    raise AifiFormatError(f"bad $date value {_short(inner)}")


def _binary(value: dict[str, Any]) -> str:
    inner = value["$binary"]
    if isinstance(inner, dict):
        inner = inner.get("base64")
    if not isinstance(inner, str):
        raise AifiFormatError(f"bad $binary value {_short(value)}")
    return inner


_WRAPPERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "$numberInt": _int_wrapper("$numberInt"),
    "$numberLong": _int_wrapper("$numberLong"),
    "$numberDouble": _float_wrapper("$numberDouble"),
    "$numberDecimal": _float_wrapper("$numberDecimal"),
    "$oid": lambda v: _wrapped_text(v, "$oid"),
    "$date": _date,
    "$binary": _binary,
}


# --- small accessors -----------------------------------------------------------------------


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _at(doc: Mapping[str, Any], *path: str) -> Any:
    value: Any = doc
    for i, key in enumerate(path):
        if not isinstance(value, Mapping) or key not in value:
            raise AifiFormatError(f"missing {'.'.join(path[: i + 1])}")
        value = value[key]
    return value


def _obj(doc: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    """Like :func:`_at`, for a value that must be an object."""
    value = _at(doc, *path)
    if not isinstance(value, Mapping):
        raise AifiFormatError(f"{'.'.join(path)} must be an object, got {_short(value)}")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AifiFormatError(f"{what} must be a number, got {_short(value)}")
    return float(value)


def _index(value: Any, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AifiFormatError(f"{what} must be a non-negative integer, got {_short(value)}")
    return value


def _text_id(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise AifiFormatError(f"{what} must be a string or integer, got {_short(value)}")
    return str(value)


def _point(value: Any, what: str) -> tuple[float, float, float] | None:
    """A ``{x, y, z}`` point (absent axes are 0, as protobuf omits zeros); None when empty."""
    if not isinstance(value, Mapping):
        raise AifiFormatError(f"{what} must be an object, got {_short(value)}")
    if not value:
        return None
    x, y, z = (_number(value.get(axis, 0.0), f"{what}.{axis}") for axis in "xyz")
    if not all(math.isfinite(c) for c in (x, y, z)):
        return None
    return (x, y, z)


# --- reading documents ---------------------------------------------------------------------


def _read_documents(path: Path) -> Iterator[_Doc]:
    """The documents of a JSON-lines (or JSON-array) export, unwrapped, one at a time."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise AifiFormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        if fh.read(4096).lstrip().startswith(b"["):
            fh.seek(0)
            try:
                values = orjson.loads(fh.read())
            except orjson.JSONDecodeError as exc:
                raise AifiFormatError(f"{path.name}: not valid JSON: {exc}") from None
            items: Iterable[tuple[str, Any]] = (
                (f"document {n}", v) for n, v in enumerate(values, 1)
            )
        else:
            fh.seek(0)
            items = _json_lines(path, fh)
        for where, value in items:
            if not isinstance(value, dict):
                raise AifiFormatError(f"{path.name} {where}: a document must be a JSON object")
            try:
                yield _Doc(where, unwrap_extended_json(value))
            except AifiFormatError as exc:
                raise AifiFormatError(f"{path.name} {where}: {exc}") from None


def _json_lines(path: Path, lines: Iterable[bytes]) -> Iterator[tuple[str, Any]]:
    for n, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield f"line {n}", orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise AifiFormatError(f"{path.name} line {n}: not valid JSON: {exc}") from None


def _decode_all(path: Path, decode: Callable[[dict[str, Any]], T]) -> list[T]:
    out = []
    for doc in _read_documents(path):
        try:
            out.append(decode(doc.data))
        except AifiFormatError as exc:
            raise AifiFormatError(f"{path.name} {doc.where}: {exc}") from None
    return out


# --- documents -----------------------------------------------------------------------------


def decode_plate_document(doc: Mapping[str, Any]) -> PlateBatch:
    """Decode one (unwrapped) ``plate_data`` document, checking its base64 array and shape."""
    gondola = _index(_at(doc, "gondola_id"), "gondola_id")
    t = _number(_at(doc, "timestamp"), "timestamp")
    if not math.isfinite(t) or t < 0:
        raise AifiFormatError(f"timestamp must be finite and >= 0, got {t}")
    plate_data = _obj(doc, "document", "plate_data")
    hz = _number(plate_data.get("freq_samp", 60), "freq_samp")
    if not 0 < hz <= 10_000:
        raise AifiFormatError(f"freq_samp must be in (0, 10000], got {hz}")
    values = _obj(plate_data, "values")
    type_name = values.get("type", "DATATYPE_FLOAT32")
    if type_name not in _DTYPES:
        raise AifiFormatError(f"unsupported values.type {_short(type_name)}")
    dtype = np.dtype(_DTYPES[type_name])
    shape = _at(values, "shape")
    if not isinstance(shape, list) or len(shape) != 3:
        raise AifiFormatError(f"values.shape must be [samples, shelves, plates], got {shape}")
    dims = tuple(_index(d, "values.shape") for d in shape)
    if 0 in dims:
        raise AifiFormatError(f"values.shape must be positive, got {list(dims)}")
    data = _at(values, "data")
    if not isinstance(data, str):
        raise AifiFormatError("values.data must be a base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise AifiFormatError("values.data is not valid base64") from None
    need = math.prod(dims) * dtype.itemsize
    if len(raw) != need:
        raise AifiFormatError(
            f"values.shape {list(dims)} needs {need} bytes of {type_name}, data has {len(raw)}"
        )
    samples = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).reshape(dims)
    return PlateBatch(gondola=gondola, t=t, hz=hz, samples=samples)


def decode_targets_document(doc: Mapping[str, Any]) -> TargetFrame:
    """Decode one (unwrapped) ``full_targets`` document into metres; targets without a head
    position are left out of the frame."""
    t = _number(_at(doc, "timestamp"), "timestamp")
    if not math.isfinite(t) or t < 0:
        raise AifiFormatError(f"timestamp must be finite and >= 0, got {t}")
    holder = _at(doc, "document", "targets") or {}
    if not isinstance(holder, Mapping):
        raise AifiFormatError("document.targets must be an object")
    raw_targets = holder.get("targets") or []
    if not isinstance(raw_targets, list):
        raise AifiFormatError("document.targets.targets must be a list")
    poses = []
    for i, target in enumerate(raw_targets):
        where = f"targets[{i}]"
        if not isinstance(target, Mapping):
            raise AifiFormatError(f"{where} must be an object")
        tid = _text_id(_at(target, "target_id", "id"), f"{where}.target_id.id")
        head_doc = _obj(target, "head") if "head" in target else {}
        head = _point(head_doc.get("point", {}), f"{where}.head.point")
        if head is None:
            continue
        hands: list[tuple[float, float, float]] = []
        raw_hands = target.get("hands")
        if raw_hands is None:
            raw_hands = [target[k] for k in ("l_wrist", "r_wrist") if k in target]
        if not isinstance(raw_hands, list):
            raise AifiFormatError(f"{where}.hands must be a list")
        for j, hand in enumerate(raw_hands):
            point = _point(_at(hand, "point"), f"{where}.hands[{j}].point")
            if point is not None and len(hands) < 2:
                hands.append(_metres(point))
        poses.append(TargetPose(tid, _metres(head), tuple(hands)))
    return TargetFrame(t, tuple(poses))


def _metres(inches: tuple[float, float, float]) -> tuple[float, float, float]:
    x, y, z = (round(c * INCH_M, _DECIMALS) for c in inches)
    return (x, y, z)


def _cents(dollars: float) -> int:
    try:
        cents = (Decimal(repr(dollars)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise AifiFormatError(f"price must be finite, got {dollars}") from None
    return int(cents)


def _product(doc: Mapping[str, Any]) -> dict[str, Any] | SkippedProduct:
    """A store product (as JSON data), or why the product cannot be one."""
    sku = _text_id(_at(doc, "product_id", "id"), "product_id.id")
    meta = _obj(doc, "metadata")
    name = str(meta.get("name") or sku)
    if "weight" not in meta:
        return SkippedProduct(sku, name, "no weight")
    weight = _number(meta["weight"], "metadata.weight")
    if not math.isfinite(weight) or weight <= 0:
        return SkippedProduct(sku, name, f"weight {weight} g is not positive")
    if "price" not in meta:
        return SkippedProduct(sku, name, "no price")
    price = _number(meta["price"], "metadata.price")
    if not math.isfinite(price) or price < 0:
        return SkippedProduct(sku, name, f"price {price} is not a non-negative amount")
    return {"sku": sku, "name": name, "price": _cents(price), "weight_g": weight}


@dataclass(frozen=True)
class _Facing:
    sku: str | None
    plates: tuple[PlateKey, ...]
    lo: FloatArray
    hi: FloatArray


def _facing(doc: Mapping[str, Any]) -> _Facing:
    raw_id = doc.get("planogram_product_id", {})
    sku = raw_id.get("id") if isinstance(raw_id, Mapping) else None
    sku = _text_id(sku, "planogram_product_id.id") if sku not in (None, "") else None
    plate_ids = _at(doc, "plate_ids")
    if not isinstance(plate_ids, list):
        raise AifiFormatError("plate_ids must be a list")
    plates = []
    for i, entry in enumerate(plate_ids):
        where = f"plate_ids[{i}]"
        plates.append(
            PlateKey(
                _index(_at(entry, "shelf_id", "gondola_id", "id"), f"{where}.gondola_id.id"),
                _index(_at(entry, "shelf_id", "shelf_index"), f"{where}.shelf_index"),
                _index(_at(entry, "plate_index"), f"{where}.plate_index"),
            )
        )
    coords = _obj(doc, "global_coordinates")
    transform = _obj(coords, "transform") if "transform" in coords else {}
    origin = _point(transform.get("translation", {}), "transform.translation") or (0.0, 0.0, 0.0)
    size = np.array([_number(coords.get(f"dim_{a}", 0.0), f"dim_{a}") for a in "xyz"])
    if not np.isfinite(size).all():
        raise AifiFormatError(f"facing dims must be finite, got {size.tolist()}")
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)]) * size
    world = corners @ _rotation(transform.get("rotation", {})).T + np.asarray(origin)
    return _Facing(sku, tuple(plates), world.min(axis=0), world.max(axis=0))


def _rotation(q: Any) -> FloatArray:
    """The rotation matrix of a ``{w, x, y, z}`` quaternion (absent parts 0; none: identity)."""
    if not isinstance(q, Mapping):
        raise AifiFormatError(f"transform.rotation must be an object, got {_short(q)}")
    w, x, y, z = (_number(q.get(k, 0.0), f"rotation.{k}") for k in "wxyz")
    norm = math.sqrt(w * w + x * x + y * y + z * z)
    if not math.isfinite(norm) or norm == 0:
        return np.eye(3)
    w, x, y, z = w / norm, x / norm, y / norm, z / norm
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


# --- the import ----------------------------------------------------------------------------


def import_aifi(case_dir: Path, out_dir: Path) -> ImportReport:
    """Convert an AutoCheckout case into ``out_dir/store.json`` and ``recording.jsonl.gz``."""
    if not case_dir.is_dir():
        raise AifiFormatError(f"{case_dir}: not a directory")
    targets_path = next((case_dir / n for n in TARGET_FILES if (case_dir / n).is_file()), None)
    for name in (PRODUCTS_FILE, PLANOGRAM_FILE, PLATE_DATA_FILE):
        if not (case_dir / name).is_file():
            raise AifiFormatError(f"{case_dir}: missing {name}")
    if targets_path is None:
        raise AifiFormatError(f"{case_dir}: missing {' or '.join(TARGET_FILES)}")
    warnings: list[str] = []

    products: dict[str, dict[str, Any]] = {}
    skipped: list[SkippedProduct] = []
    for product in _decode_all(case_dir / PRODUCTS_FILE, _product):
        if isinstance(product, SkippedProduct):
            skipped.append(product)
            warnings.append(f"product {product.sku} ({product.name}) left out: {product.reason}")
        elif product["sku"] in products:
            warnings.append(f"product {product['sku']} is listed twice; the first is kept")
        else:
            products[product["sku"]] = product

    located: dict[PlateKey, _Located] = {}
    gondola_extent: dict[int, tuple[FloatArray, FloatArray]] = {}
    unknown_skus: set[str] = set()
    for facing in _decode_all(case_dir / PLANOGRAM_FILE, _facing):
        if facing.sku is not None and facing.sku not in products:
            unknown_skus.add(facing.sku)
        for key in facing.plates:
            spot = located.setdefault(key, _Located())
            spot.lo.append(facing.lo)
            spot.hi.append(facing.hi)
            if facing.sku in products and facing.sku not in spot.skus:
                spot.skus.append(facing.sku)
            lo, hi = gondola_extent.get(key.gondola, (facing.lo, facing.hi))
            gondola_extent[key.gondola] = (np.minimum(lo, facing.lo), np.maximum(hi, facing.hi))
    if unknown_skus:
        warnings.append(f"facings of products not in the store dropped: {_listing(unknown_skus)}")

    batches: list[PlateBatch] = _decode_all(case_dir / PLATE_DATA_FILE, decode_plate_document)
    sensed = {key for batch in batches for key in batch.sensed()}
    plates = sorted(sensed & located.keys())
    if not plates:
        raise AifiFormatError(f"{case_dir}: no plate both reports a weight and is in the planogram")
    if unlocated := sensed - located.keys():
        warnings.append(
            f"plates not in the planogram left out: {_listing(k.id for k in unlocated)}"
        )
    if silent := located.keys() - sensed:
        warnings.append(
            f"plates that never report a weight left out: {_listing(k.id for k in silent)}"
        )

    frames: list[TargetFrame] = sorted(
        _decode_all(targets_path, decode_targets_document), key=lambda f: f.t
    )
    first: dict[str, tuple[float, tuple[float, float, float]]] = {}
    last: dict[str, tuple[float, float, float]] = {}
    for frame in frames:
        for pose in frame.targets:
            first.setdefault(pose.id, (frame.t, pose.head))
            last[pose.id] = pose.head
    if not first:
        warnings.append("no target ever has a head position: no gates, and tracks are empty")

    hz: dict[int, float] = {}
    for batch in batches:
        hz.setdefault(batch.gondola, batch.hz)
    store = _build_store(
        case_dir, products, plates, hz, located, gondola_extent, frames, first, last
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    store_path = out_dir / "store.json"
    store_path.write_bytes(store_json(store))

    gate_id = store.gates[0].id
    gate_chunk = _chunk(
        (t, {"type": "gate", "gate": gate_id, "t": t, "token": tid})
        for tid, (t, _) in first.items()
    )
    track_chunk = _chunk((f.t, _track_message(f)) for f in frames)
    by_gondola: dict[int, list[PlateKey]] = {}
    for key in plates:
        by_gondola.setdefault(key.gondola, []).append(key)
    weight_times: list[float] = []
    weight_lines: list[bytes] = []
    for batch in batches:
        lines = batch.weight_lines(by_gondola.get(batch.gondola, ()))
        weight_times += [batch.t] * len(lines)
        weight_lines += lines
    weight_chunk = LineChunk(np.asarray(weight_times, dtype=float), weight_lines)
    recording_path = out_dir / "recording.jsonl.gz"
    with RecordingWriter(recording_path) as writer:
        writer.write_window([gate_chunk, track_chunk, weight_chunk])
    times = np.concatenate([gate_chunk.t, track_chunk.t, weight_chunk.t])
    return ImportReport(
        store_path=store_path,
        recording_path=recording_path,
        products=len(store.products),
        plates=len(store.plates),
        facings=len(store.facings),
        targets=len(first),
        weight_messages=len(weight_chunk.lines),
        track_messages=len(track_chunk.lines),
        gate_messages=len(gate_chunk.lines),
        t_start=float(times.min()),
        t_end=float(times.max()),
        skipped_products=tuple(skipped),
        warnings=tuple(warnings),
    )


def _listing(names: Iterable[str], most: int = 5) -> str:
    names = sorted(names)
    more = f" (+{len(names) - most} more)" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def _chunk(items: Iterable[tuple[float, dict[str, Any]]]) -> LineChunk:
    times: list[float] = []
    lines: list[bytes] = []
    for t, message in items:
        times.append(t)
        lines.append(orjson.dumps(message))
    return LineChunk(np.asarray(times, dtype=float), lines)


def _track_message(frame: TargetFrame) -> dict[str, Any]:
    people = [{"id": p.id, "head": p.head, "hands": list(p.hands)} for p in frame.targets]
    return {"type": "track", "t": frame.t, "people": people}


def _build_store(
    case_dir: Path,
    products: dict[str, dict[str, Any]],
    plates: Sequence[PlateKey],
    hz: Mapping[int, float],
    located: Mapping[PlateKey, _Located],
    gondola_extent: Mapping[int, tuple[FloatArray, FloatArray]],
    frames: Sequence[TargetFrame],
    first: Mapping[str, tuple[float, tuple[float, float, float]]],
    last: Mapping[str, tuple[float, float, float]],
) -> Store:
    reach = np.array([REACH_M, REACH_M, 0.0])
    above = np.array([REACH_M, REACH_M, ABOVE_M])
    plate_data: list[dict[str, Any]] = []
    corners: list[list[float]] = []
    facing_plates: dict[str, list[str]] = {}
    for key in plates:
        spot = located[key]
        lo = np.min(spot.lo, axis=0) - reach
        hi = np.max(spot.hi, axis=0) + above
        box = [_rounded(lo), _rounded(hi)]
        corners += box
        plate_data.append({"id": key.id, "box": box, "hz": hz[key.gondola]})
        for sku in spot.skus:
            facing_plates.setdefault(sku, []).append(key.id)

    heads = np.array([p.head[:2] for f in frames for p in f.targets]).reshape(-1, 2)
    starts = np.array([head[:2] for _, head in first.values()]).reshape(-1, 2)
    ends = np.array([head[:2] for head in last.values()]).reshape(-1, 2)
    spread = np.vstack([heads, np.array(corners)[:, :2]])
    if len(starts):
        entry, exit_ = np.median(starts, axis=0), np.median(ends, axis=0)
    else:  # nobody tracked: gates at the middle of the left and right edges
        lo, hi = spread.min(axis=0), spread.max(axis=0)
        entry = np.array([lo[0] - GATE_HALF_M, (lo[1] + hi[1]) / 2])
        exit_ = np.array([hi[0] + GATE_HALF_M, (lo[1] + hi[1]) / 2])
    gates = [_square(entry, GATE_HALF_M), _square(exit_, GATE_HALF_M)]
    spread = np.vstack([spread, *gates])
    floor_lo = spread.min(axis=0) - FLOOR_MARGIN_M
    floor_hi = spread.max(axis=0) + FLOOR_MARGIN_M

    data = {
        "version": 1,
        "id": re.sub(r"[^A-Za-z0-9_.-]+", "-", case_dir.resolve().name)[:128] or "aifi",
        "name": f"AiFi nanostore, AutoCheckout case {case_dir.resolve().name}",
        "currency": "USD",
        "floor": _rectangle(floor_lo, floor_hi),
        "gates": [
            {"id": "entry-1", "kind": "entry", "area": _rectangle(*gates[0])},
            {"id": "exit-1", "kind": "exit", "area": _rectangle(*gates[1])},
        ],
        "products": [products[sku] for sku in sorted(products)],
        "plates": plate_data,
        "facings": [{"sku": sku, "plates": ids} for sku, ids in sorted(facing_plates.items())],
        "fixtures": [
            {
                "id": f"gondola-{g}",
                "kind": "gondola",
                "footprint": _rectangle(lo[:2], hi[:2]),
                "height": round(float(hi[2]), _DECIMALS),
            }
            for g, (lo, hi) in sorted(gondola_extent.items())
            if 0 < hi[2] <= 10
        ],
    }
    try:
        return Store.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise AifiFormatError(
            f"{case_dir}: derived store is invalid: {format_path(err['loc'])}: {err['msg']}"
        ) from None


def _rounded(v: FloatArray) -> list[float]:
    return [round(float(c), _DECIMALS) for c in v]


def _square(centre: FloatArray, half: float) -> FloatArray:
    return np.array([centre - half, centre + half])


def _rectangle(lo: FloatArray, hi: FloatArray) -> list[list[float]]:
    """A floor rectangle, to the centimetre."""
    x0, y0, x1, y1 = (round(float(c), 2) for c in (*lo[:2], *hi[:2]))
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
