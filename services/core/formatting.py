"""French formatting of dates, times and money (Babel), shared by templates and service messages."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, parse_decimal

LOCALE = "fr_FR"


@lru_cache(maxsize=4096)
def date_long(day: dt.date | None) -> str:
    """'lundi 23 novembre 2026'."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = day.date()
    return format_date(day, "EEEE d MMMM y", locale=LOCALE)


@lru_cache(maxsize=4096)
def date_medium(day: dt.date | None) -> str:
    """'jeudi 26 novembre' (no year), for deadlines close at hand."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = day.date()
    return format_date(day, "EEEE d MMMM", locale=LOCALE)


def date_short(day: dt.date | None) -> str:
    """'23/11/2026'."""
    if day is None:
        return ""
    return day.strftime("%d/%m/%Y")


def hour(moment: dt.datetime | dt.time) -> str:
    """'18 h', '8 h 30' (French typographic convention)."""
    if moment.minute:
        return f"{moment.hour} h {moment.minute:02d}"
    return f"{moment.hour} h"


@lru_cache(maxsize=4096)
def date_brief(day: dt.date | None) -> str:
    """'jeu. 26 nov.', for a line that must fit a phone."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = day.date()
    return format_date(day, "EEE d MMM", locale=LOCALE)


def datetime_long(moment: dt.datetime | None) -> str:
    """'lundi 23 novembre 2026 à 17 h 55'."""
    if moment is None:
        return ""
    return f"{date_long(moment.date())} à {hour(moment)}"


def datetime_medium(moment: dt.datetime | None) -> str:
    """'jeudi 26 novembre à 18 h'."""
    if moment is None:
        return ""
    return f"{date_medium(moment.date())} à {hour(moment)}"


@lru_cache(maxsize=4096)
def money(cents: int | None) -> str:
    """'2,90 €' from 290 (cents); negative amounts keep their sign."""
    if cents is None:
        return ""
    return format_currency(cents / 100, "EUR", locale=LOCALE)


def number(value: int | None) -> str:
    """'2 000' (French grouping, narrow no-break space) from 2000."""
    return "" if value is None else format_decimal(value, locale=LOCALE)


def parse_money(text: str) -> int:
    """'2,90', '2.90', '2,90 €' or what money() writes ('1 234,56 €') → cents; ValueError otherwise."""
    # Babel reads French grouping only with its narrow no-break space: any space between digits is one.
    cleaned = re.sub(r"(?<=\d)[ \xa0\u202f](?=\d)", "\u202f", (text or "").replace("€", "").strip())
    if not cleaned or not re.fullmatch(r"[-+]?[\d\u202f.,]+", cleaned):
        raise ValueError("bad amount")
    value = parse_decimal(cleaned, locale=LOCALE, strict=True)
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("more than two decimals")
    return int(value * 100)


def cell_name(child, unit, day: dt.date) -> str:
    """'Repas – Léa – lundi 30 novembre 2026': the accessible name of a cell (child × unit × day)."""
    return f"{unit.name} – {child.first_name} – {date_long(day)}"


@lru_cache(maxsize=1024)
def month_label(day: dt.date) -> str:
    """'novembre 2026'."""
    return format_date(day, "LLLL y", locale=LOCALE)


def month_name(day: dt.date) -> str:
    """'novembre'."""
    return format_date(day, "LLLL", locale=LOCALE)
