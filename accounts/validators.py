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
