"""Byte sizes as text, in binary multiples: one formatter for the labels experiments give their measurements
(allreduce's message sizes, which results.json carries) and for the report's tables and plots."""

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30


def human_bytes(n: int) -> str:
    """4096 → "4 KiB", 1536 → "1.5 KiB", 100 → "100 B"."""
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"
