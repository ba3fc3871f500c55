"""The Settings sheet keeps typed values (numbers, percentages, dates) and salesbook reads them back as the
text forms it always accepted."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from salesbook.core.settings import DEFAULTS, SettingsError, load_settings, typed_value


@pytest.mark.parametrize(("raw", "expected"), [(0.1, 0.1), ("10%", 0.1), ("10", 0.1), (10, 0.1), (1.0, 1.0)])
def test_a_percentage_reads_the_same_however_it_is_stored(raw, expected):
    """discount_limit stored as 0.1 with a % format, typed as 10% or as 10, is 10 %."""
    assert load_settings([("discount_limit", raw)])["discount_limit"] == pytest.approx(expected)


def test_typed_values_are_what_the_sheet_stores():
    """Numbers become numbers, 10 % its fraction, a date a date; text stays text; nonsense stays for the check."""
    assert typed_value("weight.revenue", "0.35") == 0.35 and typed_value("cadence.A", "7") == 7
    assert typed_value("discount_limit", "10%") == pytest.approx(0.1)
    assert typed_value("min_date", "2000-01-01") == date(2000, 1, 1)
    assert typed_value("period", "2026-11") == "2026-11" and typed_value("grade.potential", "500:30") == "500:30"
    assert typed_value("weight.revenue", "abc") == "abc"
    with pytest.raises(SettingsError):
        load_settings([("weight.revenue", "abc")])


def test_a_date_cell_and_the_settings_sheet_read_back(tmp_path):
    """A date cell (a datetime when read from Excel) is a date setting; the defaults written typed read back equal."""
    assert load_settings([("min_date", datetime(2001, 2, 3))])["min_date"] == date(2001, 2, 3)
    from salesbook.core.settings import default_rows

    typed = [(k, typed_value(k, v)) for k, v, _ in default_rows()]
    assert load_settings(typed).values == DEFAULTS.values


def test_a_text_setting_with_choices_refuses_others():
    """contract_language is zh or en; anything else is a settings error naming the choices."""
    assert load_settings([("contract_language", "en")])["contract_language"] == "en"
    with pytest.raises(SettingsError, match="one of zh, en"):
        load_settings([("contract_language", "fr")])
