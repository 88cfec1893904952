"""Constrained strings shared by the request schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: No control characters: PostgreSQL cannot store NUL, and names are shown to people.
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"

#: A short label such as a device's or a gate's name.
Label = Annotated[str, Field(min_length=1, max_length=128, pattern=NO_CONTROL)]

#: The largest row id (a 32-bit integer column on PostgreSQL).
MAX_ID = 2**31 - 1
