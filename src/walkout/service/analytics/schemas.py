"""Response bodies of the store analytics endpoints: counts only, never an account."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class BinRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    lower: int
    upper: int | None = Field(description="Exclusive; null: no upper bound.")
    count: int | None = Field(description="Null when fewer than min_visits (suppressed).")


class DistributionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    count: int | None = Field(description="Null when fewer than min_visits (suppressed).")
    median: float | None
    p90: float | None = Field(description="90th percentile (nearest rank).")
    bins: list[BinRead]


class HourRead(BaseModel):
    hour: int = Field(ge=0, le=23, description="Hour of the day in the report's time zone.")
    visits: int | None = Field(
        description="Visits that entered in this hour of the day, over "
        "the whole window; null when fewer than min_visits."
    )


class ProductStatsRead(BaseModel):
    sku: str
    name: str
    picked: int = Field(description="Units picked up (the engine's item_added).")
    put_back: int = Field(description="Units put back (item_removed).")
    bought: int = Field(description="Units on receipts.")
    pick_to_purchase: float | None = Field(
        description="bought / picked; null when nothing was picked."
    )
    visits: int = Field(description="Visits that picked or bought it (at least min_visits).")


class AnalyticsRead(BaseModel):
    since: datetime = Field(description="Start of the window (whole hours, inclusive).")
    until: datetime = Field(description="End of the window (whole hours, exclusive).")
    timezone: str
    min_visits: int = Field(
        description="Figures made up by fewer shopper visits than this are not shown."
    )
    suppressed: bool = Field(
        description="True when the window holds fewer than min_visits visits: nothing is shown."
    )
    visits: int | None = Field(description="Shopper visits that entered in the window.")
    hours: list[HourRead]
    time_in_store: DistributionRead | None = Field(description="Seconds, of visits that left.")
    basket_size: DistributionRead | None = Field(description="Units per receipt.")
    products: list[ProductStatsRead] = Field(description="Most picked first.")
    products_suppressed: int | None = Field(
        description="Products left out because fewer than min_visits visits touched them."
    )
