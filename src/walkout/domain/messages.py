"""Sensor messages (PROTOCOL section 2): the one vocabulary of what hardware says.

Parsing is strict about what the protocol requires (types, finiteness, 17 keypoints) and
lenient about unknown keys, so that recordings from later versions, which may carry optional
fields we do not know yet, still replay. A line that does not parse raises
:class:`MessageError` with a one-line reason; callers count and skip it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

Finite = Annotated[float, Field(allow_inf_nan=False)]
Point3 = tuple[Finite, Finite, Finite]
Id = Annotated[str, Field(min_length=1, max_length=128)]

#: COCO-17 keypoint names, in protocol order.
COCO_KEYPOINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
LEFT_WRIST = COCO_KEYPOINTS.index("left_wrist")
RIGHT_WRIST = COCO_KEYPOINTS.index("right_wrist")


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    t: Annotated[float, Field(allow_inf_nan=False, ge=0)]


class WeightMsg(_Message):
    type: Literal["weight"] = "weight"
    plate: Id
    hz: Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]
    g: Annotated[list[Finite | None], Field(min_length=1, max_length=10_000)]


Keypoint = tuple[Finite, Finite, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]]


class PosePerson(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    kp: Annotated[list[Keypoint], Field(min_length=17, max_length=17)]


class PoseMsg(_Message):
    type: Literal["pose"] = "pose"
    camera: Id
    people: list[PosePerson]


class TrackPerson(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Id
    head: Point3
    hands: Annotated[list[Point3], Field(max_length=2)]


class TrackMsg(_Message):
    type: Literal["track"] = "track"
    people: list[TrackPerson]


class GateMsg(_Message):
    type: Literal["gate"] = "gate"
    gate: Id
    token: Annotated[str, Field(min_length=1, max_length=4096)]
    #: Extension: the gate, which checks each token with the store service, says whose it is.
    role: Literal["shopper", "staff"] | None = None


class ProductMsg(_Message):
    type: Literal["product"] = "product"
    camera: Id
    at: tuple[Finite, Finite]
    scores: dict[str, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]]


Message = Annotated[
    WeightMsg | PoseMsg | TrackMsg | GateMsg | ProductMsg, Field(discriminator="type")
]
MESSAGE_TYPES: tuple[str, ...] = ("weight", "pose", "track", "gate", "product")

_ADAPTER: TypeAdapter[Message] = TypeAdapter(Message)


class MessageError(ValueError):
    """A recording line or live payload that is not a valid protocol message."""


def _reason(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"])
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {err['msg']}{more}" if where else f"{err['msg']}{more}"


def parse_message(raw: str | bytes) -> Message:
    """Parse one JSON line into a typed message, or raise :class:`MessageError`."""
    try:
        return _ADAPTER.validate_json(raw)
    except ValidationError as exc:
        raise MessageError(_reason(exc)) from None
