"""Classes a want names: IPC/CPC symbols (section, class, subclass, optional group) or Nice classes
(1–45). Each is checked and explained when it is wrong, then turned into the same prefix keys the
listings' search uses (`listings.search.class_keys`), so "H01M" finds "H01M 10/0525"."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from core.errors import ValidationFailed

IPC = re.compile(r"^(?P<section>[A-HY])(?P<cls>\d{2})(?P<sub>[A-Z])(?:(?P<group>\d{1,4})(?:/(?P<subgroup>\d{1,6}))?)?$")
SECTIONS = "ABCDEFGHY"


def _explain(symbol: str) -> str:
    s = symbol
    if not s:
        return _("empty")
    if s[0] not in SECTIONS:
        return _("IPC/CPC symbols start with a section letter A–H (or Y for CPC); Nice classes are numbers 1–45")
    if len(s) < 4:
        return _("too short: write at least section, class and subclass, e.g. H01M")
    if not s[1:3].isdigit():
        return _("the class after the section letter is two digits, e.g. H01")
    if not s[3].isalpha():
        return _("the subclass is one letter after the class, e.g. H01M")
    return _("the group is written as digits, a slash and digits, e.g. H01M 10/0525")


def normalise(raw: str, *, allow_nice: bool = True, allow_ipc: bool = True) -> list[str]:
    """Split what was typed (commas, semicolons, new lines, or spaces between symbols) into checked,
    normalised classes: IPC/CPC "H01M10/0525", Nice "09". ValidationFailed names every wrong one."""
    items = [p.strip() for p in re.split(r"[,;，；、\n]+", raw or "") if p.strip()]
    out: list[str] = []
    errors: list[str] = []
    for item in items:
        compact = re.sub(r"\s+", "", item).upper()
        if compact.isdigit():
            n = int(compact)
            if allow_nice and 1 <= n <= 45:
                key = f"{n:02d}"
                if key not in out:
                    out.append(key)
            else:
                errors.append(_("“%(c)s”: Nice classes are numbered 1 to 45") % {"c": item})
            continue
        if allow_ipc and IPC.match(compact):
            if compact not in out:
                out.append(compact)
            continue
        errors.append(_("“%(c)s” is not an IPC/CPC symbol or Nice class: %(why)s") % {"c": item, "why": _explain(compact)})
    if errors:
        raise ValidationFailed(" ".join(errors), field_errors={"classes": errors})
    if len(out) > 20:
        raise ValidationFailed(_("Name at most 20 classes."), field_errors={"classes": [_("Too many classes.")]})
    return out


def keys(classes: list[str]) -> list[str]:
    """Match keys: subclass level and below only ("H01M", "H01M10", "H01M10/0525"), Nice "09". A want
    naming only a section or class would match everything, so the subclass is the coarsest level."""
    out = set()
    for c in classes:
        if c.isdigit():
            out.add(c)
            continue
        main = c.split("/")[0]
        out.update({main[:4], main, c})
    return sorted(out)


def subclass(key: str) -> str:
    return key if key.isdigit() else key[:4]
