"""Patent and trademark numbers as people type them: parse, check, normalise.

Accepted (with or without prefixes, spaces, dots, commas, full-width characters, kind codes):

- CN patent application numbers: `201210379921.4`, `ZL 2012 1 0379921.4`, `CN201210379921.4`
  (12 digits: year, type digit, 7-digit serial; check character over the 12 digits with weights
  2,3,4,5,6,7,8,9,2,3,4,5, sum mod 11, 10 written X) and the older 8-digit form `03137492.1`
  (2-digit year, type digit, 5-digit serial; weights 2..9). The type digit is 1 (invention),
  2 (utility model), 3 (design), 8 (PCT invention) or 9 (PCT utility model).
- CN publication / grant numbers: `CN116455754B`, `CN1234567A` (first digit 1/2/3 = kind).
- US patents `US 10,123,456 B2`, `D504,889`, `RE45,678`, `PP12,345`; applications `16/123,456`;
  pre-grant publications `US 2019/0123456 A1`.
- EP applications `EP 06 009 468.7` (8 digits + Luhn check digit), publications `EP1234567B1`.
- Trademarks: CN registration numbers (1-8 digits, `第12345678号`), US serial (8 digits) and
  registration numbers (up to 7 digits), EUIPO numbers (9 digits, `018123456`).
- Copyrights registered with the Copyright Protection Center of China (CPCC):
  computer software registration numbers `2020SR0123456` (year, `SR`, 6 or 7 digit serial) and
  certificate numbers `软著登字第1234567号`; works registration numbers `国作登字-2020-F-01234567`
  (national; provincial offices use their abbreviation, e.g. `京作登字-2019-A-00123456`: year,
  category letter A-L, 8-digit serial).

Every result carries `keys`: strings such as `CN:APP:2012103799214` that the register and the
search index store, so a number typed in any accepted form finds the same right.

Over 400 lines on purpose: one parser per office and kind, each next to the check-character rule it
applies, reads better as one module than spread over a package.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

INVENTION, UTILITY_MODEL, DESIGN, TRADEMARK = "invention", "utility_model", "design", "trademark"
SOFTWARE_COPYRIGHT, WORKS_COPYRIGHT = "software_copyright", "works_copyright"
PATENT_KINDS = (INVENTION, UTILITY_MODEL, DESIGN)
COPYRIGHT_KINDS = (SOFTWARE_COPYRIGHT, WORKS_COPYRIGHT)
# Works registration: the registering office (国 = national CPCC; provinces by abbreviation).
WORKS_OFFICES = "国京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵云陕甘青蒙桂藏宁新"
WORKS_CATEGORIES = "ABCDEFGHIJKL"  # 文字, 口述, 音乐, 戏剧, 曲艺, 美术, 摄影, 电影, 图形, 模型, 建筑, 其他

CN_WEIGHTS_12 = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
CN_WEIGHTS_8 = (2, 3, 4, 5, 6, 7, 8, 9)
CN_TYPE_DIGITS = {"1": INVENTION, "2": UTILITY_MODEL, "3": DESIGN, "8": INVENTION, "9": UTILITY_MODEL}
CN_PUB_KINDS = {
    "A": INVENTION, "B": INVENTION, "C": INVENTION, "U": UTILITY_MODEL, "Y": UTILITY_MODEL, "S": DESIGN, "D": DESIGN,
}
CN_PUB_FIRST_DIGIT = {"1": INVENTION, "2": UTILITY_MODEL, "3": DESIGN}
EP_KIND_CODES = {"A", "A1", "A2", "A3", "A4", "A8", "A9", "B", "B1", "B2", "B3", "B8", "B9"}
US_PATENT_KIND_CODES = {"A", "B1", "B2", "E", "S", "S1", "P2", "P3", "H"}
US_PUB_KIND_CODES = {"A1", "A2", "A9"}


class NumberError(ValueError):
    """The text is not a number we can accept; `message` says why, in words for people."""

    def __init__(self, message, *, expected=None):
        super().__init__(str(message))
        self.message = str(message)
        self.expected = expected


@dataclass(frozen=True)
class ParsedNumber:
    jurisdiction: str  # CN, US, EP (EUIPO trademarks are EP)
    number_type: str  # application, publication, registration
    normalized: str  # as stored in RegisterRecord.number / application_number / publication_number
    display: str  # as shown to people
    kind: str | None = None  # invention / utility_model / design / trademark, when the number says so
    check: str | None = None  # the check character, for numbers that carry one
    check_added: bool = False  # the person left it out; we computed it
    keys: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_trademark(self):
        return self.kind == TRADEMARK

    def agrees_with(self, kind: str | None) -> bool:
        if not kind or not self.kind:
            return True
        if kind == TRADEMARK or self.kind == TRADEMARK:
            return kind == self.kind
        return kind == self.kind


# --- check characters -------------------------------------------------------------------------


def cn_check_character(digits: str) -> str:
    """Check character of a CN application number: 12 digits (weights 2-9,2-5) or 8 digits (2-9)."""
    weights = CN_WEIGHTS_12 if len(digits) == 12 else CN_WEIGHTS_8
    if len(digits) != len(weights) or not digits.isdigit():
        raise ValueError("a CN application number has 8 or 12 digits before the check character")
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def luhn_check_digit(digits: str) -> str:
    """The digit that makes `digits + digit` pass the Luhn test (EP application numbers)."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


# --- cleaning ---------------------------------------------------------------------------------


def clean(text: str) -> str:
    """Upper-case, half-width, without spaces and the separators people put in numbers."""
    text = unicodedata.normalize("NFKC", text or "").upper().strip()
    text = text.replace("。", ".").replace("．", ".")
    text = re.sub(r"^(第|NO\.?|NR\.?|NUMBER|№)", "", text)
    text = re.sub(r"(号|號)$", "", text)
    text = re.sub(r"[\s,\-_'’·]+", "", text)
    return text


def _kind_label(kind):
    from .models import RightKind

    return str(RightKind(kind).label) if kind else ""


# --- individual formats -----------------------------------------------------------------------

_CN_APP = re.compile(r"^(?:ZL|CN)?(\d{12}|\d{8})(?:\.?([0-9X]))?$")
_CN_PUB = re.compile(r"^CN(\d{9}|\d{7})([A-Z]\d?)?$")
_EP_APP = re.compile(r"^(?:EP)?(\d{8})(?:\.?(\d))?$")
_EP_PUB = re.compile(r"^EP(\d{7})([AB]\d?)?$")
_US_APP = re.compile(r"^(?:US)?(\d{2})/(\d{6})$")
_US_PUB = re.compile(r"^US(\d{4})/?(\d{7})(A\d)?$")
_US_PATENT = re.compile(r"^(?:US)?(D|RE|PP|H)?(\d{1,8})(B1|B2|E|S|S1|P2|P3|A|H)?$")


def _parse_cn_application(text: str, kind: str | None) -> ParsedNumber:
    m = _CN_APP.match(text)
    if not m:
        raise NumberError(_("A Chinese application number has 12 digits and a check character, e.g. 201210379921.4."))
    digits, given = m.group(1), m.group(2)
    if len(digits) == 12:
        year, type_digit = int(digits[:4]), digits[4]
        if year < 2003 or year > timezone.now().year:
            raise NumberError(_("The first four digits of a Chinese application number are the filing year; "
                                "%(year)s is not possible.") % {"year": year})
    else:
        yy, type_digit = int(digits[:2]), digits[2]
        if not (yy >= 85 or yy <= 3):
            raise NumberError(_("The old 8-digit Chinese application numbers were used from 1985 to 2003; "
                                "it cannot start with %(yy)02d.") % {"yy": yy})
    if type_digit not in CN_TYPE_DIGITS:
        raise NumberError(_("The type digit (here %(digit)s) of a Chinese application number must be 1 (invention), "
                            "2 (utility model), 3 (design), 8 (PCT invention) or 9 (PCT utility model).")
                          % {"digit": type_digit})
    number_kind = CN_TYPE_DIGITS[type_digit]
    if kind and kind in PATENT_KINDS and kind != number_kind:
        raise NumberError(_("The type digit %(digit)s means “%(actual)s”, but you chose “%(chosen)s”.")
                          % {"digit": type_digit, "actual": _kind_label(number_kind), "chosen": _kind_label(kind)})
    expected = cn_check_character(digits)
    if given is not None and given != expected:
        raise NumberError(
            _("The check character of %(digits)s should be %(expected)s, not %(given)s: please check the number.")
            % {"digits": digits, "expected": expected, "given": given},
            expected=expected,
        )
    normalized = f"{digits}.{expected}"
    if len(digits) == 12:
        display = f"{digits[:4]} {digits[4]} {digits[5:]}.{expected}"
    else:
        display = f"{digits[:2]} {digits[2]} {digits[3:]}.{expected}"
    return ParsedNumber("CN", "application", normalized, "ZL " + display, number_kind, expected, given is None,
                        (key("CN", "APP", normalized),))


def _parse_cn_publication(text: str, kind: str | None) -> ParsedNumber:
    m = _CN_PUB.match(text)
    if not m:
        raise NumberError(_("A Chinese publication number looks like CN116455754B or CN1234567A."))
    digits, code = m.group(1), m.group(2) or ""
    first = CN_PUB_FIRST_DIGIT.get(digits[0])
    if first is None:
        raise NumberError(_("A Chinese publication number starts with 1 (invention), 2 (utility model) or 3 (design)."))
    if code:
        by_code = CN_PUB_KINDS.get(code[0])
        if by_code is None:
            raise NumberError(_("%(code)s is not a kind code of Chinese patent documents (A, B, C, U, Y, S or D).")
                              % {"code": code})
        if by_code != first:
            raise NumberError(_("The kind code %(code)s means “%(by_code)s”, but a number starting with %(digit)s "
                                "is a “%(by_digit)s”.") % {"code": code, "by_code": _kind_label(by_code),
                                                          "digit": digits[0], "by_digit": _kind_label(first)})
    if kind and kind in PATENT_KINDS and kind != first:
        raise NumberError(_("This number is a “%(actual)s”, but you chose “%(chosen)s”.")
                          % {"actual": _kind_label(first), "chosen": _kind_label(kind)})
    normalized = f"CN{digits}{code}"
    return ParsedNumber("CN", "publication", normalized, normalized, first, None, False,
                        (key("CN", "PUB", digits),))


def _parse_ep_application(text: str) -> ParsedNumber:
    m = _EP_APP.match(text)
    if not m:
        raise NumberError(_("A European application number has 8 digits and a check digit, e.g. EP 06 009 468.7."))
    digits, given = m.group(1), m.group(2)
    expected = luhn_check_digit(digits)
    if given is not None and given != expected:
        raise NumberError(
            _("The check digit of European application %(digits)s should be %(expected)s, not %(given)s.")
            % {"digits": digits, "expected": expected, "given": given},
            expected=expected,
        )
    normalized = f"{digits}.{expected}"
    display = f"EP {digits[:2]} {digits[2:5]} {digits[5:]}.{expected}"
    return ParsedNumber("EP", "application", normalized, display, None, expected, given is None,
                        (key("EP", "APP", normalized),))


def _parse_ep_publication(text: str) -> ParsedNumber:
    m = _EP_PUB.match(text)
    if not m:
        raise NumberError(_("A European publication number looks like EP1234567B1."))
    digits, code = m.group(1), m.group(2) or ""
    if code and code not in EP_KIND_CODES:
        raise NumberError(_("%(code)s is not a kind code of European patent documents (A1, A2, A3, B1, B2 ...).")
                          % {"code": code})
    normalized = f"EP{digits}{code}"
    return ParsedNumber("EP", "publication", normalized, f"EP {digits[0]} {digits[1:4]} {digits[4:]} {code}".strip(),
                        None, None, False, (key("EP", "PUB", digits),))


def _parse_us_application(text: str) -> ParsedNumber:
    m = _US_APP.match(text)
    if not m:
        raise NumberError(_("A US application number looks like 16/123,456."))
    series, serial = m.group(1), m.group(2)
    kind = DESIGN if series == "29" else None
    normalized = f"{series}/{serial}"
    return ParsedNumber("US", "application", normalized, f"{series}/{serial[:3]},{serial[3:]}", kind, None, False,
                        (key("US", "APP", series + serial),))


def _parse_us_publication(text: str) -> ParsedNumber:
    m = _US_PUB.match(text)
    if not m:
        raise NumberError(_("A US publication number looks like US 2019/0123456 A1."))
    year, serial, code = m.group(1), m.group(2), m.group(3) or ""
    if not 2001 <= int(year) <= timezone.now().year:
        raise NumberError(_("US pre-grant publications started in 2001; %(year)s is not possible.") % {"year": year})
    normalized = f"US{year}{serial}{code}"
    return ParsedNumber("US", "publication", normalized, f"US {year}/{serial} {code}".strip(), None, None, False,
                        (key("US", "PUB", year + serial),))


def _parse_us_patent(text: str, *, had_prefix: bool) -> ParsedNumber:
    m = _US_PATENT.match(text)
    if not m:
        raise NumberError(_("A US patent number looks like US 10,123,456 B2 or D504,889."))
    series, digits, code = m.group(1) or "", m.group(2).lstrip("0"), m.group(3) or ""
    if not digits:
        raise NumberError(_("A patent number cannot be zero."))
    if not series and len(digits) == 8 and not digits.startswith("1"):
        raise NumberError(_("US utility patent numbers have at most 8 digits and are below 13,000,000."))
    kind = DESIGN if series == "D" else (INVENTION if series in ("", "RE", "PP", "H") else None)
    normalized = f"{series}{digits}"
    grouped = f"{int(digits):,}"
    return ParsedNumber("US", "registration", normalized, f"US {series}{grouped} {code}".strip(), kind, None, False,
                        (key("US", "REG", normalized),))


def _parse_trademark(text: str, jurisdiction: str | None) -> list[ParsedNumber]:
    """Trademark numbers are plain digits; which office they belong to is a matter of length and hints."""
    prefix = ""
    m = re.match(r"^(CN|US|EU|EUTM|EM|EP|TM)?(\d{1,9})$", text)
    if not m:
        raise NumberError(_("A trademark number has only digits (up to 9), e.g. 12345678 or 018123456."))
    prefix, digits = m.group(1) or "", m.group(2)
    if prefix in ("EU", "EUTM", "EM", "EP"):
        jurisdiction = "EP"
    elif prefix in ("CN", "US"):
        jurisdiction = prefix
    out = []
    if jurisdiction in (None, "CN") and len(digits) <= 8 and digits.lstrip("0"):
        value = digits.lstrip("0")
        out.append(ParsedNumber("CN", "registration", value, f"第{value}号", TRADEMARK, None, False,
                                (key("CN", "TM", value),)))
    if jurisdiction in (None, "US") and digits.lstrip("0"):
        if len(digits) == 8 and digits[:2] in {"70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "85", "86",
                                               "87", "88", "90", "97", "98", "99"}:
            out.append(ParsedNumber("US", "application", digits, f"{digits[:2]}/{digits[2:]}", TRADEMARK, None,
                                    False, (key("US", "TM", digits),)))
        elif len(digits) <= 7:
            value = digits.lstrip("0")
            out.append(ParsedNumber("US", "registration", value, f"{int(value):,}", TRADEMARK, None, False,
                                    (key("US", "TM", value),)))
    if jurisdiction in (None, "EP") and (len(digits) == 9 or (prefix and len(digits) <= 9)):
        value = digits.zfill(9)
        out.append(ParsedNumber("EP", "registration", value, value, TRADEMARK, None, False,
                                (key("EP", "TM", value),)))
    if not out:
        if jurisdiction == "EP":
            raise NumberError(_("An EU trade mark number has 9 digits, e.g. 018123456."))
        if jurisdiction == "US":
            raise NumberError(_("A US trademark serial number has 8 digits (e.g. 97123456); a registration number "
                                "up to 7."))
        raise NumberError(_("A Chinese trademark registration number has up to 8 digits."))
    return out


# --- copyrights ----------------------------------------------------------------------------------

_SW_REG = re.compile(r"^(?:CN)?(\d{4})SR(\d{6,7})$")
_SW_CERT = re.compile(r"^(?:软著登字)?第?(\d{6,8})号?$")
_WORKS = re.compile(rf"^([{WORKS_OFFICES}])作登字[-－—–]?(\d{{4}})[-－—–]?([A-Z])[-－—–]?(\d{{8}})$")


def looks_like_copyright(text: str) -> bool:
    raw = unicodedata.normalize("NFKC", text or "").upper()
    return "SR" in raw.replace(" ", "") and bool(re.search(r"\d{4}\s*SR", raw)) or "登字" in raw


def _parse_copyright(text: str, kind: str | None) -> list[ParsedNumber]:
    raw = unicodedata.normalize("NFKC", text or "").upper().strip()
    raw = re.sub(r"[\s]+", "", raw)
    current_year = timezone.localdate().year
    if "作登字" in raw:
        m = _WORKS.match(raw)
        if not m:
            raise NumberError(_("A works registration number reads like 国作登字-2020-F-01234567: the office, "
                                "作登字, the year, a category letter A to L and 8 digits."))
        office, year, category, serial = m.groups()
        if not 1990 <= int(year) <= current_year:
            raise NumberError(_("%(year)s is not a year of copyright registration.") % {"year": year})
        if category not in WORKS_CATEGORIES:
            raise NumberError(_("The category letter of a works registration is A to L, not %(letter)s.")
                              % {"letter": category})
        normalized = f"{office}作登字-{year}-{category}-{serial}"
        return [ParsedNumber("CN", "registration", normalized, normalized, WORKS_COPYRIGHT, None, False,
                             (f"CN:WRK:{office}{year}{category}{serial}",))]
    if "软著登字" in raw or (kind == SOFTWARE_COPYRIGHT and _SW_CERT.match(raw)):
        m = _SW_CERT.match(raw)
        if not m:
            raise NumberError(_("A software copyright certificate number reads like 软著登字第1234567号."))
        serial = m.group(1)
        return [ParsedNumber("CN", "certificate", serial, f"软著登字第{serial}号", SOFTWARE_COPYRIGHT, None, False,
                             (key("CN", "SWC", serial),))]
    m = _SW_REG.match(raw.replace("-", "").replace(".", ""))
    if not m:
        raise NumberError(_("A software copyright registration number reads like 2020SR0123456: the year, SR and "
                            "the serial number."))
    year, serial = m.groups()
    if not 1991 <= int(year) <= current_year:
        raise NumberError(_("%(year)s is not a year of software copyright registration (1991 to %(now)s).")
                          % {"year": year, "now": current_year})
    normalized = f"{year}SR{serial}"
    return [ParsedNumber("CN", "registration", normalized, normalized, SOFTWARE_COPYRIGHT, None, False,
                         (key("CN", "SWR", normalized),))]


# --- entry points -----------------------------------------------------------------------------


def key(jurisdiction: str, kind: str, value: str) -> str:
    """The lookup key stored with register records and listings: `CN:APP:2012103799214`."""
    return f"{jurisdiction}:{kind}:{re.sub(r'[^0-9A-Z]', '', value.upper())}"


def parse_candidates(text: str, *, jurisdiction: str | None = None, kind: str | None = None) -> list[ParsedNumber]:
    """Every reading of `text` that is a valid number (most specific first).

    Raises NumberError with the most useful message when there is none. A wrong check character is
    always reported (with the right one), even when another reading would be possible.
    """
    raw = clean(text)
    if not raw:
        raise NumberError(_("Type a patent or trademark number."))
    if kind in COPYRIGHT_KINDS or looks_like_copyright(text):
        if jurisdiction not in (None, "", "CN", "cn"):
            raise NumberError(_("Copyright registration numbers of this form are Chinese (CPCC)."))
        return _parse_copyright(text, kind)
    if "第" in (text or "") and re.match(r"^\d{1,8}$", raw):  # 第12345678号: a Chinese trademark
        kind, jurisdiction = TRADEMARK, jurisdiction or "CN"
    if not re.match(r"^[0-9A-Z./]+$", raw):
        raise NumberError(_("A number can only contain digits, letters of its prefix or kind code, dots and "
                            "slashes; remove %(chars)s.")
                          % {"chars": " ".join(sorted({c for c in raw if not re.match(r'[0-9A-Z./]', c)}))})
    jurisdiction = (jurisdiction or "").upper() or None
    if kind == TRADEMARK:
        return _parse_trademark(raw, jurisdiction)

    errors: list[NumberError] = []
    out: list[ParsedNumber] = []

    def attempt(func, *args, **kwargs):
        try:
            result = func(*args, **kwargs)
        except NumberError as exc:
            errors.append(exc)
            return
        out.extend(result if isinstance(result, list) else [result])

    prefix = re.match(r"^(ZL|CN|EP|US|EU|EUTM)", raw)
    prefix = prefix.group(1) if prefix else ""
    if prefix:
        jurisdiction = {"ZL": "CN", "EU": "EP", "EUTM": "EP"}.get(prefix, prefix)
    body = raw[len(prefix):]

    if jurisdiction in (None, "CN"):
        if prefix == "CN" and re.match(r"^(\d{7}|\d{9})([A-Z]\d?)?$", body):
            attempt(_parse_cn_publication, raw, kind)
        elif re.match(r"^\d{12}(\.?[0-9X])?$", body) or re.match(r"^\d{8}\.[0-9X]$", body) or (
            prefix in ("ZL", "CN") and re.match(r"^\d{8}[0-9X]?$", body)
        ):
            attempt(_parse_cn_application, body, kind)
        elif prefix == "ZL":
            errors.append(NumberError(_("After ZL comes the application number: 12 digits and a check character, "
                                        "e.g. ZL 2012 1 0379921.4.")))
    if jurisdiction in (None, "EP") and kind not in (UTILITY_MODEL,):
        if re.match(r"^\d{8}\.\d$", body) or (prefix == "EP" and re.match(r"^\d{8,9}$", body)):
            attempt(_parse_ep_application, body)
        elif prefix == "EP" and re.match(r"^\d{7}([AB]\d?)?$", body):
            attempt(_parse_ep_publication, raw)
    if jurisdiction in (None, "US"):
        if "/" in body and re.match(r"^\d{2}/\d{6}$", body):
            attempt(_parse_us_application, body)
        elif re.match(r"^\d{4}/?\d{7}(A\d)?$", body) and (prefix == "US" or "/" in body):
            attempt(_parse_us_publication, "US" + body)
        elif re.match(r"^(D|RE|PP|H)?\d{1,8}(B1|B2|E|S|S1|P2|P3|A|H)?$", body) and (
            prefix == "US" or re.match(r"^(D|RE|PP)", body) or re.match(r"^\d{6,8}$", body)
        ):
            attempt(_parse_us_patent, body, had_prefix=prefix == "US")
    if kind is None and re.match(r"^(CN|US|EU|EUTM|EP)?\d{1,9}$", raw) and not (
        prefix == "ZL" or (len(body) == 12 and jurisdiction in (None, "CN"))
    ):
        try:
            out.extend(_parse_trademark(raw, jurisdiction))
        except NumberError as exc:
            errors.append(exc)
    if kind:
        out = [p for p in out if p.agrees_with(kind) or p.kind is None]
    if out:
        seen, unique = set(), []
        for p in out:
            if p.keys not in seen:
                seen.add(p.keys)
                unique.append(p)
        return unique
    if errors:
        raise next((e for e in errors if e.expected is not None), errors[0])
    raise NumberError(_("%(text)s is not a patent or trademark number we recognise. Examples: ZL 2012 1 0379921.4, "
                        "CN116455754B, US 10,123,456 B2, 16/123,456, EP 06 009 468.7, EP1234567B1, 第12345678号.")
                      % {"text": text.strip()[:40]})


def parse_number(text: str, *, jurisdiction: str | None = None, kind: str | None = None) -> ParsedNumber:
    """The most specific valid reading of `text`, or NumberError."""
    return parse_candidates(text, jurisdiction=jurisdiction, kind=kind)[0]


def looks_like_number(text: str) -> bool:
    """Cheap test for search: digits dominate and there is no CJK text."""
    raw = clean(text)
    return bool(raw) and sum(c.isdigit() for c in raw) >= max(5, len(raw) // 2) and bool(re.match(r"^[0-9A-Z./]+$", raw))


def search_keys(text: str) -> list[str]:
    """All lookup keys the text could mean; empty when it is not a number."""
    if looks_like_copyright(text):
        try:
            return sorted({k for p in _parse_copyright(text, None) for k in p.keys})
        except NumberError:
            return []
    if not looks_like_number(text):
        return []
    try:
        candidates = parse_candidates(text)
    except NumberError:
        return []
    return sorted({k for p in candidates for k in p.keys})


def keys_for_record(*, jurisdiction: str, kind: str, number: str, application_number: str = "",
                    publication_number: str = "", certificate_number: str = "") -> list[str]:
    """Lookup keys of a register record: its number, application number and publication number (and a
    copyright's certificate number)."""
    keys: set[str] = set()
    if kind in COPYRIGHT_KINDS:
        for value in (number, certificate_number):
            if not value:
                continue
            try:
                for p in _parse_copyright(value if kind == WORKS_COPYRIGHT or "SR" in value.upper()
                                          else f"软著登字第{value.strip('第号')}号" if value.strip("第号").isdigit()
                                          else value, kind):
                    keys.update(p.keys)
            except NumberError:
                keys.add(key(jurisdiction, "RAW", value))
        return sorted(keys)
    hint = TRADEMARK if kind == TRADEMARK else None
    for value in (number, application_number, publication_number):
        if not value:
            continue
        text = value if (value[:2].isalpha() or "/" in value or kind == TRADEMARK) else value
        if jurisdiction in ("CN", "EP", "US") and value[:2] not in ("CN", "EP", "US") and kind != TRADEMARK:
            if jurisdiction == "US" and "/" not in value:
                text = "US" + value
            elif jurisdiction == "EP" and "." in value:
                text = "EP" + value
        try:
            for p in parse_candidates(text, jurisdiction=jurisdiction, kind=hint):
                if p.jurisdiction == jurisdiction:
                    keys.update(p.keys)
        except NumberError:
            keys.add(key(jurisdiction, "RAW", value))
    return sorted(keys)
