"""Small fixtures built in code, shared by the test modules."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# property tests draw the same examples on every run (CI must not depend on luck); run
# `pytest --hypothesis-profile=explore` to search with fresh random examples
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("ci")


@pytest.fixture
def events():
    """Nine events between four people with every optional column."""
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in range(9)],
        "provider": ["it1", "it1", "it1", "it2", "ops1", "ops1", "sal1", "it1", "ops1"],
        "client": ["ops1", "ops1", "sal1", "ops1", "it1", "sal1", "ops1", "sal1", "it1"],
        "requested_at": pd.to_datetime([
            "2025-01-01 08:00", "2025-01-03 09:00", "2025-01-05 10:00", "2025-01-06 11:00",
            "2025-01-07 12:00", "2025-02-01 08:00", "2025-02-02 08:00", "2025-02-03 08:00",
            "2025-03-01 08:00"]),
        "delivered_at": pd.to_datetime([
            "2025-01-01 20:00", "2025-01-05 09:00", "2025-01-05 14:00", "2025-01-06 12:00",
            "2025-01-07 13:00", "2025-02-01 10:00", "2025-02-02 09:00", None,
            "2025-03-01 09:00"]),
        "satisfaction": [2, 1, 4, 5, 3, 4, np.nan, np.nan, 5],
        "service": ["it", "it", "it", "it", "material", "material", "information", "it",
                    "material"],
        "expected_hours": [24, 24, 24, 24, np.nan, 8, np.nan, 24, np.nan],
        "reopened": [True, False, False, False, False, False, False, True, False],
    })


@pytest.fixture
def people():
    return pd.DataFrame({
        "person": ["it1", "it2", "ops1", "sal1", "hr1"],
        "unit": ["IT", "IT", "Ops", "Sales", "HR"],
        "external_facing": [False, False, False, True, False],
    })
