"""Units of measure: which unit belongs to which dimension, and the factor to
the IR's base unit (bytes, seconds, bytes per second, money per hour, money
per GB)."""

from __future__ import annotations

SIZE = "size"
DURATION = "duration"
BANDWIDTH = "bandwidth"
PRICE = "price"  # money per hour
EGRESS = "egress"  # money per GB moved

UNITS: dict[str, tuple[str, float]] = {
    # sizes, decimal and binary
    "B": (SIZE, 1), "KB": (SIZE, 1e3), "MB": (SIZE, 1e6), "GB": (SIZE, 1e9),
    "TB": (SIZE, 1e12), "PB": (SIZE, 1e15),
    "KiB": (SIZE, 1024), "MiB": (SIZE, 1024**2), "GiB": (SIZE, 1024**3),
    "TiB": (SIZE, 1024**4), "PiB": (SIZE, 1024**5),
    # durations
    "ms": (DURATION, 1e-3), "s": (DURATION, 1), "m": (DURATION, 60), "min": (DURATION, 60),
    "h": (DURATION, 3600), "d": (DURATION, 86400),
    # bandwidth: bits per second (network style) and bytes per second
    "bps": (BANDWIDTH, 1 / 8), "Kbps": (BANDWIDTH, 1e3 / 8), "Mbps": (BANDWIDTH, 1e6 / 8),
    "Gbps": (BANDWIDTH, 1e9 / 8), "Tbps": (BANDWIDTH, 1e12 / 8),
    "B/s": (BANDWIDTH, 1), "KB/s": (BANDWIDTH, 1e3), "MB/s": (BANDWIDTH, 1e6),
    "GB/s": (BANDWIDTH, 1e9),
    # money rates: per node-hour, and per amount of data moved
    "/h": (PRICE, 1), "/d": (PRICE, 1 / 24),
    "/GB": (EGRESS, 1), "/TB": (EGRESS, 1e-3), "/GiB": (EGRESS, 1e9 / 1024**3),
}

DIMENSION_UNITS = {
    dim: [u for u, (d, _) in UNITS.items() if d == dim]
    for dim in (SIZE, DURATION, BANDWIDTH, PRICE, EGRESS)
}

DIMENSION_NAMES = {
    SIZE: "a size (e.g. 16GiB)",
    DURATION: "a duration (e.g. 2h)",
    BANDWIDTH: "a bandwidth (e.g. 1Gbps)",
    PRICE: "a price per hour (e.g. 1.2/h)",
    EGRESS: "a price per GB moved (e.g. 0.01/GB)",
}


def lookup(unit: str) -> tuple[str, float] | None:
    return UNITS.get(unit)


def suggestion(unit: str) -> str | None:
    """A likely intended unit for a misspelt one: case slips (gb, Gib),
    bits for bytes (Gb), a missing `per` slash (h for /h is not guessed)."""
    folded = {u.lower(): u for u in UNITS}
    if unit.lower() in folded:
        return folded[unit.lower()]
    aliases = {"sec": "s", "secs": "s", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
               "mins": "min", "day": "d", "days": "d", "G": "GB", "M": "MB", "K": "KB",
               "Gi": "GiB", "Mi": "MiB", "/hour": "/h", "/hr": "/h"}
    return aliases.get(unit)
