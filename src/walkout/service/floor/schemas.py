"""Response bodies of the floor endpoints: the live floor, the layout, a plate, the heatmap."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

#: Points are short arrays (JSON Schema tuples trip some OpenAPI tools).
Point2 = Annotated[list[float], Field(min_length=2, max_length=2)]
Point3 = Annotated[list[float], Field(min_length=3, max_length=3)]
StockState = Literal["unknown", "empty", "low", "ok"]


class FloorPosted(BaseModel):
    people: int = Field(description="People in the posted view.")
    dwell_s: float = Field(
        description="Person-seconds this view added to the heatmap (0 for the first view, after "
        "a gap, or when its stream time is not after the previous view's)."
    )


class FloorPersonRead(BaseModel):
    person: str = Field(description="The engine's track id (changes when a track is lost).")
    visit_id: int | None = Field(description="The open visit the person shops on, if known.")
    cart_items: int = Field(description="Units in that visit's cart (0 without a visit).")
    staff: bool = Field(description="A staff member at work: drawn apart, not in the heatmap.")
    x: float
    y: float


class PlateLevelRead(BaseModel):
    plate: str
    units: int | None = Field(description="Units on the plate's counted facings; null if none.")
    threshold: int | None = Field(description="Their restock thresholds, summed; null if none.")
    state: StockState = Field(
        description="The worst of its counted facings (empty, low, ok); unknown when none is."
    )


class FloorRead(BaseModel):
    t: float | None = Field(description="Stream time of the latest view; null before any.")
    received_at: datetime | None
    people: list[FloorPersonRead] = Field(
        description="Empty when the latest view is older than a few seconds (no live engine)."
    )
    plates: list[PlateLevelRead]


class Bounds(BaseModel):
    min_x: float
    min_y: float
    max_x: float
    max_y: float


class GateRead(BaseModel):
    id: str
    kind: Literal["entry", "exit", "both"]
    area: list[Point2]


class FixtureRead(BaseModel):
    id: str
    kind: str
    footprint: list[Point2]
    height: float


class ProductRead(BaseModel):
    sku: str
    name: str
    price: int = Field(description="Minor units.")


class PlateRead(BaseModel):
    id: str
    box: Annotated[list[Point3], Field(min_length=2, max_length=2)] = Field(
        description="Min and max corners, metres."
    )
    skus: list[str] = Field(description="The products the plate holds (see ``products``).")


class LayoutRead(BaseModel):
    store_id: str
    name: str
    currency: str
    floor: list[Point2] = Field(description="The floor polygon, metres.")
    bounds: Bounds
    gates: list[GateRead]
    fixtures: list[FixtureRead]
    plates: list[PlateRead]
    products: list[ProductRead]


class FacingLevelRead(BaseModel):
    sku: str
    name: str
    units: int | None
    threshold: int
    state: StockState


class PlateEventRead(BaseModel):
    event_id: str
    type: Literal["item_added", "item_removed"]
    visit_id: int
    sku: str
    qty: int
    t: float = Field(description="The engine's stream time of the event.")
    confidence: float
    received_at: datetime


class PlateDetailRead(BaseModel):
    plate: str
    facings: list[FacingLevelRead]
    events: list[PlateEventRead] = Field(description="Its latest cart events, newest first.")


class HeatmapRead(BaseModel):
    since: datetime = Field(description="Start of the first hour counted.")
    until: datetime = Field(description="The hour holding it is the last one counted.")
    cell_m: float = Field(description="Side of a cell, metres.")
    origin: Point2 = Field(description="Floor position of the corner of cell (0, 0).")
    columns: int
    rows: int
    seconds: list[list[float]] = Field(
        description="Person-seconds per cell: ``seconds[row][column]``, row along y."
    )
    total_s: float
