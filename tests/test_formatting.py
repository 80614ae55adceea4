"""French money both ways (Babel): what money() writes, parse_money() reads back; anything else is refused."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.core.formatting import money, parse_money


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(min_value=-10**9, max_value=10**9))
def test_what_money_writes_parse_money_reads_back(cents):
    assert parse_money(money(cents)) == cents


@pytest.mark.parametrize("text, cents", [
    ("2,90", 290), ("2.90", 290), ("2,90 €", 290), (" 3 ", 300), ("0,5", 50), ("-1,5", -150),
    ("1 234,56", 123456), ("1\xa0234,56 €", 123456), ("1\u202f234,56\xa0€", 123456),
])
def test_what_a_person_types_is_read(text, cents):
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["", "€", "abc", "1,234", "0,001", "1e5", "NaN", "Infinity", "1.234,5", "--1",
                                  "2,90 $", "1 2 3,4,5"])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_money(text)
