"""Service timestamps, and how far apart two clocks may be when we compare them."""

from __future__ import annotations

from datetime import datetime, timezone

CLOCK_SKEW = 300.0
"""Seconds of difference tolerated between our clock and the service's, when an endpoint's
`createdAt` tells whether it is older than a create we sent."""


def parse_timestamp(value: str | None) -> float | None:
    """Seconds since the epoch of a service timestamp (`...Z`, up to nanoseconds), or None."""
    if not value:
        return None
    text = value.strip().removesuffix("Z")
    head, dot, fraction = text.partition(".")
    text = f"{head}.{fraction[:6]}" if dot else head
    moment = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return moment.timestamp()


def older_than(created_at: str | None, started: float) -> bool:
    """Whether a `createdAt` is clearly before `started` (our clock), so not made since then.
    An absent or unreadable timestamp is not evidence either way: False."""
    try:
        created = parse_timestamp(created_at)
    except ValueError:
        return False
    return created is not None and created < started - CLOCK_SKEW
