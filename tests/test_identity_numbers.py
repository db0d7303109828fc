import pytest
from hypothesis import given
from hypothesis import strategies as st

from fitapp.identity_numbers import looks_like_identity_number


@pytest.mark.parametrize("value", [
    "850101-1234", "8501011234", "850101+1234", "19850101-1234", "198501011234",
    "20121231-0000", "850161-1234",  # coordination number: day + 60
    "ref 850101-1234", "A850101-1234", "850101 1234",
])
def test_identity_numbers_are_detected(value):
    assert looks_like_identity_number(value)


@pytest.mark.parametrize("value", [
    "", None, "F-2024-0012", "P000123", "851301-1234",  # month 13
    "850100-1234",  # day 0
    "850132-1234",  # day 32 is neither a date nor a coordination day
    "12345", "FAM-7Q2K", "17850101-1234",  # century 17 is not a living person's
    "1234567890123",  # a longer digit run is not an identity number
])
def test_other_references_pass(value):
    assert not looks_like_identity_number(value)


@given(st.dates(), st.integers(min_value=0, max_value=9999), st.sampled_from(["", "-", "+"]))
def test_every_real_date_with_four_digits_is_caught(day, serial, separator):
    short = f"{day:%y%m%d}{separator}{serial:04d}"
    long = f"{day:%Y%m%d}{separator}{serial:04d}"
    assert looks_like_identity_number(short)
    if 1800 <= day.year <= 2099:
        assert looks_like_identity_number(long)
