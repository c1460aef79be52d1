import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# GB 32100-2015 unified social credit code: 18 characters from this 31-letter alphabet
# (no I, O, Z, S, V); the 18th is a check character over the first 17.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "").replace("-", "")


def validate_uscc(value: str) -> None:
    code = normalize_uscc(value)
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)s.") % {"n": len(code)},
            code="uscc_length",
        )
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise ValidationError(
            _("A unified social credit code cannot contain %(chars)s (I, O, Z, S and V are never used).")
            % {"chars": ", ".join(bad)},
            code="uscc_characters",
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("The check character (the 18th) should be %(expected)s, not %(given)s: please check the code.")
            % {"expected": expected, "given": code[17]},
            code="uscc_check",
        )


# GB 11643-1999 resident identity number: 17 digits and a check character (0-9 or X).
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def validate_cn_resident_id(value: str) -> None:
    code = normalize_uscc(value)
    if len(code) != 18 or not code[:17].isdigit() or code[17] not in "0123456789X":
        raise ValidationError(
            _("A Chinese resident identity number has 17 digits followed by a digit or X."), code="id_format"
        )
    expected = ID_CHECK[sum(int(c) * w for c, w in zip(code[:17], ID_WEIGHTS, strict=True)) % 11]
    if code[17] != expected:
        raise ValidationError(
            _("The last character of this identity number should be %(expected)s, not %(given)s: please check it.")
            % {"expected": expected, "given": code[17]},
            code="id_check",
        )


def validate_registration_number(*, kind: str, country: str, number: str) -> str:
    """Check an organization's registration number for its kind and country; return it normalised."""
    number = (number or "").strip()
    if not number:
        if kind == "individual":
            raise ValidationError(_("Enter the ID number of the person (resident ID or passport)."), code="required")
        raise ValidationError(_("Enter the registration number of the organization."), code="required")
    if (country or "").upper() == "CN":
        if kind == "individual":
            if len(normalize_uscc(number)) == 18:
                validate_cn_resident_id(number)
                return normalize_uscc(number)
            return number  # a passport number of a Chinese citizen
        validate_uscc(number)
        return normalize_uscc(number)
    return number


def registration_number_problems(*, kind: str, country: str, number: str) -> list[str]:
    try:
        validate_registration_number(kind=kind, country=country, number=number)
    except ValidationError as exc:
        return list(exc.messages)
    return []


# --- bank details (seller payouts, exchange escrow accounts) ------------------------------------

SWIFT = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")
CNAPS = re.compile(r"\d{12}")
IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
ACCOUNT = re.compile(r"[0-9A-Z][0-9A-Z\- ]{4,38}[0-9A-Z]")


def compact(value: str) -> str:
    return "".join((value or "").split()).upper()


def iban_valid(value: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    v = compact(value)
    if not IBAN.fullmatch(v):
        return False
    rearranged = v[4:] + v[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def bank_details_problems(*, account_number: str, swift: str = "", cnaps: str = "", country: str = "") -> dict:
    """Field -> message for bank details that cannot be right; empty when they look valid."""
    problems = {}
    number = compact(account_number)
    if not number:
        problems["account_number"] = _("Enter the account number (or IBAN).")
    elif number[:2].isalpha() and number[2:4].isdigit():
        if not iban_valid(number):
            problems["account_number"] = _("This IBAN does not pass its check digits: check it against a statement.")
    elif not ACCOUNT.fullmatch(account_number.strip().upper()) or not any(c.isdigit() for c in number):
        problems["account_number"] = _("An account number has 6 to 40 digits or letters (spaces and dashes allowed).")
    if swift and not SWIFT.fullmatch(compact(swift)):
        problems["swift"] = _("A SWIFT/BIC code has 8 or 11 characters: bank (4 letters), country (2), "
                              "location (2) and optionally branch (3), e.g. BKCHCNBJ110.")
    if cnaps and not CNAPS.fullmatch(compact(cnaps)):
        problems["cnaps"] = _("A CNAPS code has 12 digits.")
    if country == "CN" and not cnaps and not swift:
        problems["cnaps"] = _("For an account in mainland China, enter the bank's CNAPS code (or its SWIFT code).")
    return problems
