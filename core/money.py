"""Money is an integer amount in minor units plus an ISO 4217 currency. Never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

# ISO 4217 minor-unit exponents of the currencies tenants use; 2 for any other.
EXPONENTS = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "GBP": 2, "JPY": 0, "KRW": 0, "SGD": 2, "MOP": 2}
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "GBP": "£", "JPY": "¥", "SGD": "S$", "MOP": "MOP$"}
CURRENCY_CHOICES = [(c, c) for c in ("CNY", "USD", "EUR", "HKD", "GBP", "JPY", "SGD", "MOP")]


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency.upper(), 2)


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        if len(self.currency) != 3:
            raise ValueError("currency must be an ISO 4217 code")

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {getattr(other, 'currency', other)}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __bool__(self) -> bool:
        return self.amount != 0

    def bps(self, basis_points: int) -> Money:
        """This amount times basis_points / 10,000, rounded half up to the minor unit."""
        value = (Decimal(self.amount) * basis_points / Decimal(10000)).quantize(Decimal(1), ROUND_HALF_UP)
        return Money(int(value), self.currency)

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def to_minor(value: object, currency: str) -> int:
    """Parse what a person typed ('12,345.60', '12345', Decimal) into minor units, or raise ValueError."""
    text = str(value).strip().replace(",", "").replace(" ", "").replace("，", "")
    for sym in sorted(SYMBOLS.values(), key=len, reverse=True):
        text = text.replace(sym, "")
    try:
        dec = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Enter an amount such as 12500 or 12,500.00.")) from None
    if not dec.is_finite() or dec < 0:
        raise ValueError(_("Enter a positive amount."))
    exp = exponent(currency)
    scaled = dec.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise ValueError(_("%(currency)s amounts have at most %(n)s decimal places.") % {"currency": currency, "n": exp})
    return int(scaled)


def format_money(amount: int | None, currency: str, *, symbol: bool = True) -> str:
    if amount is None:
        return ""
    exp = exponent(currency)
    sign = "-" if amount < 0 else ""
    dec = Decimal(abs(amount)).scaleb(-exp)
    body = f"{dec:,.{exp}f}"
    prefix = SYMBOLS.get(currency.upper(), "") if symbol else ""
    return f"{sign}{prefix}{body}" if prefix else f"{sign}{body} {currency}"
