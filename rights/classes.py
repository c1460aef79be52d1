"""Class keys of a right's classes (IPC/CPC symbols, Nice classes): every prefix, so 'H04', 'H04L' or
'H04L9' all find 'H04L 9/32', and Nice classes as two digits ('09'). Listings' search and demand's
matching both key on these; they live here, below both, because a right's classes are the register's."""

from __future__ import annotations

from .models import RightKind


def class_keys(kind: str, classes: list[str]) -> list[str]:
    keys = set()
    for c in classes or []:
        c = c.replace(" ", "").upper()
        if not c:
            continue
        if kind == RightKind.TRADEMARK and c.isdigit():
            keys.add(f"{int(c):02d}")
            continue
        main = c.split("/")[0]
        keys.update({main[:1], main[:3], main[:4], main})
        keys.add(c)
    return sorted(k for k in keys if k)
