"""Which office records a change of owner (or a licence) of a right, by jurisdiction and kind: the one
table shared by listings (a right without a route cannot be published until the seller names one)
and transfers (its office gateways, `transfers.offices.ROUTES`).

- CN patents: CNIPA (patent recordal of assignment); CN trademarks: CNIPA Trademark Office.
- CN software copyrights and works: the Copyright Protection Center of China (CPCC) records the
  transfer or exclusive-licence contract (计算机软件著作权转让/专有许可合同登记; 作品著作权合同备案).
- US patents and trademarks: USPTO assignment recordation (Assignment Center).
- EU trade marks and registered Community designs: EUIPO; international marks: WIPO Madrid.
- European patent applications (EP invention, pending): the EPO registers the transfer in the
  European Patent Register (Rule 22 EPC; EPO Form 2544 with the assignment and the administrative fee).
- Granted European patents have no central recordal: a transfer is recorded by the national office of
  each state where the patent was validated, so the seller names those states (`parse_states`) and the
  filing goes to "the national offices" with the states listed on its cover.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

PATENT_KINDS = ("invention", "utility_model", "design")

RECORDING_OFFICES: dict[tuple[str, str], str] = {}
for _kind in PATENT_KINDS:
    RECORDING_OFFICES[("CN", _kind)] = "cnipa_patent"
    RECORDING_OFFICES[("US", _kind)] = "uspto_patent"
RECORDING_OFFICES[("CN", "trademark")] = "cnipa_trademark"
RECORDING_OFFICES[("US", "trademark")] = "uspto_trademark"
RECORDING_OFFICES[("EP", "trademark")] = "euipo"
RECORDING_OFFICES[("EP", "design")] = "euipo"
RECORDING_OFFICES[("WO", "trademark")] = "wipo_madrid"
RECORDING_OFFICES[("CN", "software_copyright")] = "cpcc"
RECORDING_OFFICES[("CN", "works_copyright")] = "cpcc"


# EPC contracting states (39), extension states (BA, ME) and validation states (MA, MD, TN, KH, GE):
# where a European patent can have effect and so where its transfer is recorded after grant.
EP_STATES: dict[str, Any] = {
    "AL": _("Albania"), "AT": _("Austria"), "BE": _("Belgium"), "BG": _("Bulgaria"), "CH": _("Switzerland / Liechtenstein"),
    "CY": _("Cyprus"), "CZ": _("Czechia"), "DE": _("Germany"), "DK": _("Denmark"), "EE": _("Estonia"), "ES": _("Spain"),
    "FI": _("Finland"), "FR": _("France"), "GB": _("United Kingdom"), "GR": _("Greece"), "HR": _("Croatia"), "HU": _("Hungary"),
    "IE": _("Ireland"), "IS": _("Iceland"), "IT": _("Italy"), "LI": _("Liechtenstein"), "LT": _("Lithuania"),
    "LU": _("Luxembourg"), "LV": _("Latvia"), "MC": _("Monaco"), "ME": _("Montenegro"), "MK": _("North Macedonia"),
    "MT": _("Malta"), "NL": _("Netherlands"), "NO": _("Norway"), "PL": _("Poland"), "PT": _("Portugal"), "RO": _("Romania"),
    "RS": _("Serbia"), "SE": _("Sweden"), "SI": _("Slovenia"), "SK": _("Slovakia"), "SM": _("San Marino"), "TR": _("Türkiye"),
    "BA": _("Bosnia and Herzegovina"), "MA": _("Morocco"), "MD": _("Moldova"), "TN": _("Tunisia"), "KH": _("Cambodia"),
    "GE": _("Georgia"),
}


def parse_states(text: str) -> list[str]:
    """'de, fr  GB;gb' -> ['DE', 'FR', 'GB']: the validation states a seller names, in the order given,
    once each. Unknown codes raise ValueError naming them ("UK" is a common slip for GB)."""
    codes = [c.upper() for c in re.split(r"[\s,;/]+", text or "") if c]
    unknown = [c for c in codes if c not in EP_STATES]
    if unknown:
        raise ValueError(", ".join(dict.fromkeys(unknown)))
    return list(dict.fromkeys(codes))


def recording_office(jurisdiction: str, kind: str, *, legal_status: str = "", filing_route: str = "") -> str | None:
    """The office that records a transfer of this right, or None when the seller must still name one
    (a granted European patent before its validation states are named)."""
    office = RECORDING_OFFICES.get((jurisdiction, kind))
    if office or (jurisdiction, kind) != ("EP", "invention"):
        return office
    if legal_status == "pending":
        return "epo"
    return "ep_national" if (filing_route or "").strip() else None


def has_filing_route(jurisdiction: str, kind: str, **right) -> bool:
    return recording_office(jurisdiction, kind, **right) is not None
