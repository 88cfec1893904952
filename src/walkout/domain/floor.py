"""The live floor: where the people in the store are now, as the engine tracks them.

The engine answers ``Engine.floor()`` with a :class:`FloorView`; a device posts it to the store
service, which maps tokens to visits for the staff console and adds each person's time to an
anonymous dwell heatmap. Positions are floor coordinates in metres (the store file's frame).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Metres = Annotated[float, Field(allow_inf_nan=False, ge=-10_000, le=10_000)]


class FloorPerson(BaseModel):
    """One tracked person: the engine's track id, the token bound at the gate (None until the
    person is matched to a scan, and for people who never scanned) and the floor position."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person: Annotated[str, Field(min_length=1, max_length=128)]
    token: Annotated[str, Field(min_length=1, max_length=4096)] | None
    x: Metres
    y: Metres


class FloorView(BaseModel):
    """Everyone on the floor at stream time ``t`` (seconds, the engine's clock)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    t: Annotated[float, Field(allow_inf_nan=False, ge=0)]
    people: Annotated[list[FloorPerson], Field(max_length=1000)]
