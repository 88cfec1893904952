"""The store file (PROTOCOL section 1): strict models and whole-file checks.

Every shape here follows ``shared/spec/PROTOCOL.md``. walkout adds only optional fields, all
documented in ``docs/protocol-extensions.md``:

- ``fixtures``: the solid furniture of the floor (gondolas, fridges, counters) as footprint
  polygons with a height. People cannot walk through them and cameras cannot see through them.
  A store without fixtures is still valid; tools that need obstacles derive them from plates.
- ``components`` on a product: a meal kit, sold at its own price and made of other products
  (``[{"sku", "qty"}]``); selling a kit takes its components out of stock. Kits do not nest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

Id = Annotated[str, Field(min_length=1, max_length=128)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Point2 = tuple[Finite, Finite]
Point3 = tuple[Finite, Finite, Finite]
Polygon = Annotated[list[Point2], Field(min_length=3)]


def _ordered(box: tuple[Point3, Point3]) -> tuple[Point3, Point3]:
    lo, hi = box
    for axis, a, b in zip("xyz", lo, hi, strict=True):
        if a > b:
            raise PydanticCustomError(
                "box_order",
                "box min {axis} = {a} is greater than max {axis} = {b}",
                {"axis": axis, "a": a, "b": b},
            )
    return box


Box = Annotated[tuple[Point3, Point3], AfterValidator(_ordered)]
"""An axis-aligned volume, ``[min corner, max corner]``."""


class StrictModel(BaseModel):
    """Immutable, and unknown keys are an error: a typo in a store file must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Gate(StrictModel):
    id: Id
    kind: Literal["entry", "exit", "both"]
    area: Polygon

    @property
    def admits(self) -> bool:
        return self.kind in ("entry", "both")

    @property
    def releases(self) -> bool:
        return self.kind in ("exit", "both")


def default_weight_sd(weight_g: float) -> float:
    """PROTOCOL default for a product's unit-weight spread: 1 % of the weight, at least 0.5 g."""
    return max(0.01 * weight_g, 0.5)


class Component(StrictModel):
    """Extension: ``qty`` units of product ``sku`` go into one unit of a meal kit."""

    sku: Id
    qty: Annotated[int, Field(ge=1, le=1000)] = 1


class Product(StrictModel):
    sku: Id
    name: Annotated[str, Field(min_length=1)]
    price: Annotated[int, Field(ge=0, description="Price in the currency's minor unit (cents).")]
    weight_g: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    weight_sd_g: Annotated[float, Field(ge=0, allow_inf_nan=False)] = -1.0
    age_restricted: bool = False
    tags: list[str] = Field(default_factory=list)
    components: list[Component] = Field(
        default_factory=list,
        description="Extension: a meal kit's contents; empty for an ordinary product.",
    )

    @property
    def is_kit(self) -> bool:
        return bool(self.components)

    @model_serializer(mode="wrap")
    def _plain_without_components(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Write ``components`` only for kits, so ordinary products stay PROTOCOL-exact."""
        data = handler(self)
        if isinstance(data, dict) and not self.components:
            data.pop("components", None)
        return data

    @model_validator(mode="after")
    def _default_sd(self) -> Product:
        if self.weight_sd_g < 0:
            object.__setattr__(self, "weight_sd_g", default_weight_sd(self.weight_g))
        return self


class Plate(StrictModel):
    id: Id
    box: Box = Field(
        description="Axis-aligned volume [min corner, max corner] where a hand touches the plate."
    )
    hz: Annotated[float, Field(gt=0, le=10_000)] = 60.0

    def contains(self, point: Sequence[float], margin: float = 0.0) -> bool:
        lo, hi = self.box
        return all(lo[i] - margin <= point[i] <= hi[i] + margin for i in range(3))

    @property
    def centre(self) -> tuple[float, float, float]:
        lo, hi = self.box
        return ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2)


class Facing(StrictModel):
    sku: Id
    plates: Annotated[list[Id], Field(min_length=1)]
    box: Box | None = Field(
        default=None,
        description="The product's lane: the part of its plates' boxes in front of it, where a "
        "hand reaches to take it (products sharing a plate stand side by side). Absent: "
        "anywhere on its plates.",
    )

    @model_serializer(mode="wrap")
    def _plain_without_box(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Write ``box`` only for a lane, so other facings stay PROTOCOL-exact."""
        data = handler(self)
        if isinstance(data, dict) and self.box is None:
            data.pop("box", None)
        return data


Matrix3 = tuple[Point3, Point3, Point3]


class Camera(StrictModel):
    id: Id
    width: Annotated[int, Field(gt=0)]
    height: Annotated[int, Field(gt=0)]
    fps: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    K: Matrix3
    dist: Annotated[list[Finite], Field(min_length=4, max_length=8)]
    R: Matrix3
    t: Point3

    @field_validator("K")
    @classmethod
    def _intrinsics(cls, k: Matrix3) -> Matrix3:
        if k[0][0] <= 0 or k[1][1] <= 0:
            raise PydanticCustomError("camera_k", "focal lengths K[0][0] and K[1][1] must be > 0")
        if k[1][0] != 0 or k[2][0] != 0 or k[2][1] != 0 or k[2][2] != 1:
            raise PydanticCustomError(
                "camera_k", "K must be upper triangular with K[2] = [0, 0, 1]"
            )
        return k

    @field_validator("R")
    @classmethod
    def _rotation(cls, r: Matrix3) -> Matrix3:
        m = np.asarray(r, dtype=float)
        err = float(np.abs(m @ m.T - np.eye(3)).max())
        det = float(np.linalg.det(m))
        if err > 1e-3 or abs(det - 1.0) > 1e-3:
            raise PydanticCustomError(
                "camera_rotation",
                "R is not a rotation (|R·Rᵀ − I| = {err}, det = {det})",
                {"err": f"{err:.3g}", "det": f"{det:.3g}"},
            )
        return r

    @property
    def centre(self) -> np.ndarray:
        """The camera's optical centre in world coordinates: −Rᵀ·t."""
        r = np.asarray(self.R, dtype=float)
        centre: np.ndarray = -(r.T @ np.asarray(self.t, dtype=float))
        return centre


class Fixture(StrictModel):
    """Extension: a solid piece of furniture on the floor (gondola, fridge, counter)."""

    id: Id
    kind: Annotated[str, Field(min_length=1)] = "gondola"
    footprint: Polygon
    height: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)]


class Store(StrictModel):
    version: Literal[1]
    id: Id
    name: Annotated[str, Field(min_length=1)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    floor: Polygon
    gates: list[Gate]
    products: list[Product]
    plates: list[Plate]
    facings: list[Facing]
    cameras: list[Camera] = Field(default_factory=list)
    fixtures: list[Fixture] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Store:
        problems = reference_problems(self)
        if problems:
            raise PydanticCustomError(
                "store_references",
                "{count} reference error(s): {first}",
                {"count": len(problems), "first": problems[0].render()},
            )
        return self

    # Lookups, built once per store object.
    def product(self, sku: str) -> Product:
        return self._index().products[sku]

    def plate(self, plate_id: str) -> Plate:
        return self._index().plates[plate_id]

    def skus_on(self, plate_id: str) -> tuple[str, ...]:
        """The products a plate carries, in facing order."""
        return self._index().plate_skus.get(plate_id, ())

    def plates_of(self, sku: str) -> tuple[str, ...]:
        return self._index().sku_plates.get(sku, ())

    def lanes_on(self, plate_id: str) -> dict[str, Box]:
        """The lanes of the products on a plate that has them, clipped to the plate's box:
        where a hand reaches for each product. Empty when no facing there has a lane."""
        return self._index().lanes.get(plate_id, {})

    def _index(self) -> _StoreIndex:
        cached = self.__dict__.get("_walkout_index")
        if cached is None:
            cached = _StoreIndex.build(self)
            self.__dict__["_walkout_index"] = cached
        return cached


@dataclass(frozen=True)
class _StoreIndex:
    products: dict[str, Product]
    plates: dict[str, Plate]
    plate_skus: dict[str, tuple[str, ...]]
    sku_plates: dict[str, tuple[str, ...]]
    lanes: dict[str, dict[str, Box]]

    @staticmethod
    def build(store: Store) -> _StoreIndex:
        plate_skus: dict[str, list[str]] = {}
        sku_plates: dict[str, list[str]] = {}
        lanes: dict[str, dict[str, Box]] = {}
        plates = {p.id: p for p in store.plates}
        for facing in store.facings:
            for pid in facing.plates:
                plate_skus.setdefault(pid, []).append(facing.sku)
                sku_plates.setdefault(facing.sku, []).append(pid)
                lane = None if facing.box is None else box_overlap(facing.box, plates[pid].box)
                if lane is not None:
                    lanes.setdefault(pid, {})[facing.sku] = lane
        return _StoreIndex(
            products={p.sku: p for p in store.products},
            plates=plates,
            plate_skus={k: tuple(v) for k, v in plate_skus.items()},
            sku_plates={k: tuple(v) for k, v in sku_plates.items()},
            lanes=lanes,
        )


def box_overlap(a: Box, b: Box) -> Box | None:
    """The part two boxes share, or None when they do not meet."""
    lo = (max(a[0][0], b[0][0]), max(a[0][1], b[0][1]), max(a[0][2], b[0][2]))
    hi = (min(a[1][0], b[1][0]), min(a[1][1], b[1][1]), min(a[1][2], b[1][2]))
    if any(lo[i] > hi[i] for i in range(3)):
        return None
    return (lo, hi)


@dataclass(frozen=True)
class StoreProblem:
    """One thing wrong with a store file, at a JSON path such as ``facings[3].plates[1]``."""

    path: str
    message: str

    def render(self) -> str:
        return f"{self.path or '<root>'}: {self.message}"


def format_path(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _duplicates(kind: str, field: str, ids: Sequence[str]) -> list[StoreProblem]:
    counts = Counter(ids)
    return [
        StoreProblem(
            f"{field}[{i}].{'sku' if field == 'products' else 'id'}",
            f"duplicate {kind} id {value!r}",
        )
        for i, value in enumerate(ids)
        if counts[value] > 1 and ids.index(value) != i
    ]


def reference_problems(store: Store) -> list[StoreProblem]:
    """Whole-file checks that single fields cannot make: unique ids and valid references."""
    problems: list[StoreProblem] = []
    problems += _duplicates("product", "products", [p.sku for p in store.products])
    problems += _duplicates("plate", "plates", [p.id for p in store.plates])
    problems += _duplicates("camera", "cameras", [c.id for c in store.cameras])
    problems += _duplicates("gate", "gates", [g.id for g in store.gates])
    problems += _duplicates("fixture", "fixtures", [f.id for f in store.fixtures])
    skus = {p.sku for p in store.products}
    plate_boxes = {p.id: p.box for p in store.plates}
    plates = plate_boxes.keys()
    seen_pairs: set[tuple[str, str]] = set()
    for i, facing in enumerate(store.facings):
        if facing.sku not in skus:
            problems.append(StoreProblem(f"facings[{i}].sku", f"unknown product {facing.sku!r}"))
        for j, pid in enumerate(facing.plates):
            if pid not in plates:
                problems.append(StoreProblem(f"facings[{i}].plates[{j}]", f"unknown plate {pid!r}"))
            elif facing.box is not None and box_overlap(facing.box, plate_boxes[pid]) is None:
                problems.append(
                    StoreProblem(
                        f"facings[{i}].box", f"the lane does not meet the box of plate {pid!r}"
                    )
                )
            elif (facing.sku, pid) in seen_pairs:
                problems.append(
                    StoreProblem(
                        f"facings[{i}].plates[{j}]",
                        f"product {facing.sku!r} is already faced on plate {pid!r}",
                    )
                )
            seen_pairs.add((facing.sku, pid))
    problems += _kit_problems(store)
    if not any(g.admits for g in store.gates):
        problems.append(StoreProblem("gates", "the store has no entry gate"))
    if not any(g.releases for g in store.gates):
        problems.append(StoreProblem("gates", "the store has no exit gate"))
    return problems


def _kit_problems(store: Store) -> list[StoreProblem]:
    """Meal kits must be made of other, ordinary products of the store, each listed once; a kit
    holding an age-restricted product must be age-restricted itself (the ID check is decided
    on the product sold)."""
    problems: list[StoreProblem] = []
    products = {p.sku: p for p in store.products}
    for i, kit in enumerate(store.products):
        seen: set[str] = set()
        for j, component in enumerate(kit.components):
            path = f"products[{i}].components[{j}].sku"
            part = products.get(component.sku)
            if component.sku == kit.sku:
                problems.append(StoreProblem(path, f"kit {kit.sku!r} cannot contain itself"))
            elif part is None:
                problems.append(StoreProblem(path, f"unknown product {component.sku!r}"))
            elif part.is_kit:
                problems.append(
                    StoreProblem(path, f"{component.sku!r} is a kit itself: kits cannot nest")
                )
            elif component.sku in seen:
                problems.append(
                    StoreProblem(path, f"{component.sku!r} is listed twice: add up its qty")
                )
            elif part.age_restricted and not kit.age_restricted:
                problems.append(
                    StoreProblem(
                        f"products[{i}].age_restricted",
                        f"kit {kit.sku!r} holds age-restricted {component.sku!r}: "
                        "mark the kit age_restricted too",
                    )
                )
            seen.add(component.sku)
    return problems


def check_store_data(data: Any) -> list[StoreProblem]:
    """Every problem of a parsed store file (a JSON value), each with its path. Empty when valid."""
    try:
        Store.model_validate(data)
    except ValidationError as exc:
        problems: list[StoreProblem] = []
        for err in exc.errors(include_url=False):
            if err["type"] == "store_references":
                continue
            problems.append(StoreProblem(format_path(err["loc"]), err["msg"]))
        if problems:
            return problems
        # Every field is well formed; only the whole-file checks failed: list them all.
        return reference_problems(Store.model_construct(**_construct_parts(data)))
    return []


def _construct_parts(data: dict[str, Any]) -> dict[str, Any]:
    """Field-validated parts of a store whose only errors are cross references."""
    parts: dict[str, Any] = {}
    for name, field in Store.model_fields.items():
        if name in data and field.annotation is not None:
            parts[name] = TypeAdapter(field.annotation).validate_python(data[name])
    return parts
