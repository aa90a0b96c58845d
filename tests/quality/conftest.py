"""Validation on both GX engines: each test of a promise runs on Spark and on collected rows."""

from __future__ import annotations

import pytest

from quality.validation import validate_dataframe


@pytest.fixture(params=["spark", "pandas"])
def validate(request):
    """`validate_dataframe`, on GX's Spark engine or on the frame's rows collected (pandas)."""

    def run(df, suite_name, expectations, **kwargs):
        rows = df.toArrow() if request.param == "pandas" else None
        return validate_dataframe(df, suite_name, expectations, rows=rows, **kwargs)

    return run
