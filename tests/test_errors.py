"""reject_rows: the one place that turns a row mask into a ValidationError naming the first row."""

import numpy as np
import pandas as pd
import pytest

from placement.errors import ValidationError, reject_rows


def test_no_flag_returns_none():
    assert reject_rows(np.zeros(3, dtype=bool), "x", table="t", row=["a", "b", "c"]) is None


@pytest.mark.parametrize("as_series", [False, True])
def test_names_the_first_flagged_row_field_and_value(as_series):
    bad = np.array([False, True, True])
    row = pd.Series(["a", "b", "c"], index=[10, 20, 30]) if as_series else ["a", "b", "c"]
    value = pd.Series([1.0, -2.0, -3.0], index=[7, 8, 9]) if as_series else [1.0, -2.0, -3.0]
    mask = pd.Series(bad, index=[5, 6, 7]) if as_series else bad
    with pytest.raises(ValidationError) as err:
        reject_rows(mask, "must be >= 0", table="sites", row=row, field="capacity", value=value)
    e = err.value
    # positions, not index labels: the second row, whatever the index says
    assert (e.table, e.row, e.field, e.value) == ("sites", "b", "capacity", -2.0)
    assert str(e) == "table 'sites', row 'b', field 'capacity': must be >= 0 (got -2.0)"


def test_callable_row_and_no_value():
    with pytest.raises(ValidationError) as err:
        reject_rows(
            np.array([False, False, True]),
            "bad pair",
            table="latency",
            row=lambda i: f"d{i} -> s{i}",
        )
    assert err.value.row == "d2 -> s2"
    assert err.value.value is None
    assert err.value.field is None


def test_the_message_shows_the_value_once():
    e = ValidationError("unknown site_id", table="rum", row=0, field="site_id", value="lhr")
    assert str(e) == "table 'rum', row 0, field 'site_id': unknown site_id (got 'lhr')"
    named = ValidationError("site 'lhr' is not a candidate", field="site_id", value="lhr")
    assert str(named) == "field 'site_id': site 'lhr' is not a candidate"
    assert str(ValidationError("must be > 0", value=np.float64(-1.5))) == "must be > 0 (got -1.5)"
    assert str(ValidationError("table is empty", table="latency")) == (
        "table 'latency': table is empty"
    )
    long = ValidationError("too long", value="x" * 200)
    assert str(long).endswith("...)") and len(str(long)) < 100
