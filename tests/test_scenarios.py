"""Scenario presets: lookup, validation, and that the presets get harder in turn."""

from __future__ import annotations

import dataclasses

import pytest

from walkout.sim.scenarios import SCENARIOS, Scenario, SensorFaults, get_scenario


def test_presets_by_name() -> None:
    assert list(SCENARIOS) == ["quiet", "busy", "rush", "adversarial"]
    for name, scenario in SCENARIOS.items():
        assert get_scenario(name) is scenario
        assert scenario.name == name


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'lunch'") as err:
        get_scenario("lunch")
    for name in SCENARIOS:
        assert name in str(err.value)


def test_presets_get_harder() -> None:
    quiet, busy, rush, adv = (SCENARIOS[n] for n in ("quiet", "busy", "rush", "adversarial"))
    assert quiet.concurrency[1] <= 2 < busy.concurrency[0]
    assert busy.concurrency == (10, 20)
    assert rush.concurrency[0] >= 30
    assert quiet.put_back == quiet.misplace == quiet.handoff == quiet.lean == 0
    assert quiet.group_share == 0
    for field in ("put_back", "misplace", "handoff", "touch", "lean", "lookalike"):
        assert getattr(busy, field) > 0
        assert getattr(adv, field) > getattr(busy, field)
    assert rush.hot_share > busy.hot_share
    assert adv.faults.any
    assert not any(s.faults.any for s in (quiet, busy, rush))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"put_back": 1.5}, "put_back"),
        ({"put_back": 0.5, "misplace": 0.4, "handoff": 0.3}, "handoff > 1"),
        ({"touch": 0.6, "lean": 0.6}, "touch \\+ lean"),
        ({"hot_share": 0.6, "lookalike": 0.6}, "hot_share \\+ lookalike"),
        ({"concurrency": (5, 2)}, "concurrency"),
        ({"group_size": (1, 3)}, "groups"),
        ({"minutes": 0.0}, "minutes"),
    ],
)
def test_invalid_scenarios_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(SCENARIOS["busy"], **change)  # type: ignore[arg-type]


def test_scenarios_are_frozen_values() -> None:
    quiet = SCENARIOS["quiet"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        quiet.minutes = 3.0  # type: ignore[misc]
    assert Scenario(name="x", description="d", minutes=1.0, concurrency=(1, 1)).faults == (
        SensorFaults()
    )
