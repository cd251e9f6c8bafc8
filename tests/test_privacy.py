"""Privacy: suppression and keyed pseudonyms."""

import pandas as pd
import pytest

from icnet import privacy
from icnet.errors import ParameterError


def test_suppress():
    df = pd.DataFrame({"n": [4, 5], "x": [1.0, 2.0]})
    out = privacy.suppress(df, "n", ["x"])
    assert out["x"].isna().tolist() == [True, False]
    assert out["suppressed"].tolist() == [True, False]
    assert df["x"].notna().all()                       # input untouched
    with pytest.raises(ParameterError, match="no column 'm'"):
        privacy.suppress(df, "m", ["x"])


def test_pseudonymize_is_keyed_and_stable():
    df = pd.DataFrame({"provider": ["ana", "luis"], "client": ["luis", None]})
    a = privacy.pseudonymize(df, ["provider", "client"], key="k1")
    b = privacy.pseudonymize(df, ["provider", "client"], key="k1")
    c = privacy.pseudonymize(df, ["provider", "client"], key="k2")
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[0, "client"] == a.loc[1, "provider"]  # same id, same pseudonym
    assert a.loc[0, "provider"] != c.loc[0, "provider"]
    assert pd.isna(a.loc[1, "client"])
    assert "ana" not in a.to_csv()
    with pytest.raises(ParameterError, match="non-empty secret key"):
        privacy.pseudonymize(df, ["provider"], key="")
