"""Scenario presets: every behaviour rate of a simulated run, as data.

A preset is a frozen :class:`Scenario`; a new preset is a new value, not new code. The presets
get harder in turn: ``quiet`` → ``busy`` → ``rush`` → ``adversarial``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SensorFaults:
    """Which faults the sensor models inject; each sensor model chooses the magnitudes."""

    weight_dropouts: bool = False
    """Load-cell samples go missing (``null``) in bursts."""
    weight_drift: bool = False
    """Load-cell tares drift much faster than usual."""
    dead_plates: bool = False
    """A few load cells stop reporting for minutes."""
    camera_dropouts: bool = False
    """Cameras drop frames and the detector misses people."""

    @property
    def any(self) -> bool:
        return self.weight_dropouts or self.weight_drift or self.dead_plates or self.camera_dropouts


@dataclass(frozen=True)
class Scenario:
    """The behaviour rates of one kind of store day. Chances are per event, in [0, 1]."""

    name: str
    description: str
    minutes: float
    """Default duration: shoppers arrive during this many minutes; the run ends when the last
    person has left."""
    concurrency: tuple[int, int]
    """Arrivals are steered to keep this many shoppers (min, max) in the store."""
    group_share: float = 0.0
    """Chance that an arriving party is a group sharing one token."""
    group_size: tuple[int, int] = (2, 4)
    visits: tuple[int, int] = (2, 6)
    """Plate visits per shopper (min, max)."""
    browse_s: tuple[float, float] = (1.0, 6.0)
    """Pause after each visit (min, max) seconds."""
    multi_unit: float = 0.0
    """Chance that a pick takes 2 or 3 units at once."""
    put_back: float = 0.0
    """Chance that a picked unit is later put back on its own plate."""
    misplace: float = 0.0
    """Chance that a picked unit is later left on another plate."""
    handoff: float = 0.0
    """Chance (in a group) that a picked unit is handed to another member."""
    touch: float = 0.0
    """Chance that a visit reaches in and takes nothing."""
    lean: float = 0.0
    """Chance that a visit is a hand resting on the shelf for a few seconds."""
    hot_share: float = 0.0
    """Share of visits that go to a few neighbouring "hot" plates: crowds and simultaneous
    reaches at one fixture."""
    lookalike: float = 0.0
    """Chance that a visit targets a product with a look-alike unit weight nearby."""
    staff_per_hour: float = 0.0
    """Staff restocking rounds per hour."""
    faults: SensorFaults = field(default_factory=SensorFaults)

    def __post_init__(self) -> None:
        chances = {
            "group_share": self.group_share,
            "multi_unit": self.multi_unit,
            "put_back": self.put_back,
            "misplace": self.misplace,
            "handoff": self.handoff,
            "touch": self.touch,
            "lean": self.lean,
            "hot_share": self.hot_share,
            "lookalike": self.lookalike,
        }
        for name, p in chances.items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"scenario {self.name!r}: {name} = {p} is not in [0, 1]")
        if self.put_back + self.misplace + self.handoff > 1.0:
            raise ValueError(f"scenario {self.name!r}: put_back + misplace + handoff > 1")
        if self.touch + self.lean > 1.0:
            raise ValueError(f"scenario {self.name!r}: touch + lean > 1")
        if self.hot_share + self.lookalike > 1.0:
            raise ValueError(f"scenario {self.name!r}: hot_share + lookalike > 1")
        for name, (lo, hi) in {
            "concurrency": self.concurrency,
            "group_size": self.group_size,
            "visits": self.visits,
            "browse_s": self.browse_s,
        }.items():
            if not 0 <= lo <= hi:
                raise ValueError(f"scenario {self.name!r}: {name} = {(lo, hi)} is not a range")
        if self.concurrency[1] < 1 or self.group_size[0] < 2 or self.visits[1] < 1:
            raise ValueError(f"scenario {self.name!r}: empty concurrency, groups or visits")
        if self.minutes <= 0 or self.staff_per_hour < 0:
            raise ValueError(f"scenario {self.name!r}: minutes must be > 0, staff rate >= 0")


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="quiet",
            description="One or two shoppers at a time, simple picks.",
            minutes=10.0,
            concurrency=(1, 2),
            visits=(2, 5),
            multi_unit=0.05,
        ),
        Scenario(
            name="busy",
            description="10–20 shoppers at a time, groups, every behaviour now and then.",
            minutes=30.0,
            concurrency=(10, 20),
            group_share=0.25,
            visits=(3, 10),
            multi_unit=0.15,
            put_back=0.08,
            misplace=0.04,
            handoff=0.15,
            touch=0.08,
            lean=0.04,
            hot_share=0.1,
            lookalike=0.1,
            staff_per_hour=4.0,
        ),
        Scenario(
            name="rush",
            description="30+ shoppers at once, crowded aisles, simultaneous reaches at a fixture.",
            minutes=15.0,
            concurrency=(30, 45),
            group_share=0.3,
            visits=(2, 6),
            browse_s=(0.5, 3.0),
            multi_unit=0.2,
            put_back=0.08,
            misplace=0.05,
            handoff=0.15,
            touch=0.1,
            lean=0.05,
            hot_share=0.35,
            lookalike=0.1,
            staff_per_hour=2.0,
        ),
        Scenario(
            name="adversarial",
            description="Misplacements, hand-offs, leaning, look-alike weights and sensor faults.",
            minutes=20.0,
            concurrency=(8, 16),
            group_share=0.5,
            visits=(4, 10),
            multi_unit=0.2,
            put_back=0.15,
            misplace=0.25,
            handoff=0.35,
            touch=0.15,
            lean=0.15,
            hot_share=0.2,
            lookalike=0.7,
            staff_per_hour=3.0,
            faults=SensorFaults(
                weight_dropouts=True, weight_drift=True, dead_plates=True, camera_dropouts=True
            ),
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    """The preset called ``name``; a ValueError naming the valid presets for an unknown one."""
    try:
        return SCENARIOS[name]
    except KeyError:
        valid = ", ".join(SCENARIOS)
        raise ValueError(f"unknown scenario {name!r}; valid scenarios: {valid}") from None
