"""Small simulated runs for the adapter tests: quiet shoppers at one shelf of the corner store."""

from __future__ import annotations

from pathlib import Path

from test_engine_replay import CORNER, aisle_store
from walkout.domain.store import Store
from walkout.sim.run import simulate
from walkout.sim.scenarios import get_scenario


def shelf_store(store_id: str) -> Store:
    """The corner store with only one shelf's 11 load cells (a short recording), named
    ``store_id``."""
    return aisle_store(CORNER, ("G1-A-S2-",)).model_copy(update={"id": store_id})


def quiet_run(out: Path, store: Store, minutes: float = 0.5, shoppers: int = 2) -> Path:
    """Simulate a few quiet shoppers (people as 3-D tracks) into ``out``; the run directory."""
    quiet = get_scenario("quiet")
    simulate(store, quiet, 3, out, minutes=minutes, shoppers=shoppers, vision="track")
    return out
