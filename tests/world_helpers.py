"""A small test store for the world model: a 12 x 9 m room with gondolas, plates and gates."""

from __future__ import annotations

from typing import Any

from walkout.domain.store import Store

GONDOLA_X = ((2.5, 3.3), (4.6, 5.4), (6.9, 7.7))
"""x extent of each gondola; they run from y = 3 to y = 7 with 1.3 m aisles between."""
GONDOLA_Y = (3.0, 7.0)
SHELF_Z = (0.2, 0.8, 1.4)
BOX_DEPTH = 0.4
BOX_HEIGHT = 0.35


def small_store(with_fixtures: bool = True) -> Store:
    """Three two-sided gondolas with 4 columns x 3 shelves a side (72 plates), one entry gate
    on the west wall and one exit gate on the east wall; no cameras."""
    plates: list[dict[str, Any]] = []
    fixtures: list[dict[str, Any]] = []
    for g, (x0, x1) in enumerate(GONDOLA_X):
        y0, y1 = GONDOLA_Y
        fixtures.append(
            {"id": f"G{g}", "footprint": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], "height": 1.9}
        )
        for side, (bx0, bx1) in (("W", (x0, x0 + BOX_DEPTH)), ("E", (x1 - BOX_DEPTH, x1))):
            for col in range(4):
                for s, z in enumerate(SHELF_Z):
                    plates.append(
                        {
                            "id": f"G{g}{side}-C{col}-S{s}",
                            "box": [[bx0, y0 + col, z], [bx1, y0 + col + 1, z + BOX_HEIGHT]],
                        }
                    )
    products: list[dict[str, Any]] = []
    facings: list[dict[str, Any]] = []
    weight = 0.0
    for k, plate in enumerate(plates):
        sku = f"{k:012d}"
        # Every fifth product has a look-alike twin (1 % heavier) on the next plate.
        weight = 300.0 + 15.0 * (k // 2) if k % 5 != 1 else weight * 1.01
        products.append(
            {
                "sku": sku,
                "name": f"Product {k}",
                "price": 100 + 7 * k,
                "weight_g": weight,
                "age_restricted": k % 11 == 0,
            }
        )
        facings.append({"sku": sku, "plates": [plate["id"]]})
    # A second product on some plates, and one product faced on two plates.
    for k in range(0, len(plates), 9):
        facings.append(
            {"sku": products[(k + 4) % len(products)]["sku"], "plates": [plates[k]["id"]]}
        )
    data: dict[str, Any] = {
        "version": 1,
        "id": "test-room",
        "name": "Test Room",
        "currency": "USD",
        "floor": [[0, 0], [12, 0], [12, 9], [0, 9]],
        "gates": [
            {"id": "entry-1", "kind": "entry", "area": [[0, 1], [1.2, 1], [1.2, 2.5], [0, 2.5]]},
            {"id": "exit-1", "kind": "exit", "area": [[10.8, 1], [12, 1], [12, 2.5], [10.8, 2.5]]},
        ],
        "products": products,
        "plates": plates,
        "facings": facings,
        "fixtures": fixtures if with_fixtures else [],
    }
    return Store.model_validate(data)
