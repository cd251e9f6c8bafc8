"""Same input and seed → the same output, byte for byte, whatever the input row order.

Also: every public analysis validates its arguments at the boundary (sklearn-style
ParameterError, never a TypeError from inside pandas).
"""

import warnings

import pandas as pd
import pytest

import icnet
from icnet.errors import ParameterError

ANALYSES = ["service_quality", "agreement_compliance", "bottlenecks", "critical_path",
            "conflict_cycles", "balance", "retaliation_spirals", "health", "actions"]


def _tables(result):
    """The DataFrames inside an analysis result (a frame or a dataclass of frames)."""
    if isinstance(result, pd.DataFrame):
        return {"": result}
    out = {}
    for name in dir(result):
        if name.startswith("_"):
            continue
        v = getattr(result, name)
        if isinstance(v, pd.DataFrame):
            out[name] = v
    assert out, f"{type(result).__name__} holds no DataFrame"
    return out


def _csv(result):
    return {k: v.to_csv(lineterminator="\n") for k, v in _tables(result).items()}


@pytest.fixture(scope="module")
def planta_tables():
    return icnet.datasets.load("planta", as_tables=True)


def _net(tables, seed=None):
    ev = tables["events"]
    if seed is not None:
        ev = ev.sample(frac=1, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return icnet.from_events(ev, people=tables.get("people"), ratings=tables.get("ratings"),
                                 agreements=tables.get("agreements"))


@pytest.mark.parametrize("name", ANALYSES)
def test_byte_identical_across_runs_and_row_orders(name, planta_tables):
    fn = getattr(icnet, name)
    a = _csv(fn(_net(planta_tables)))
    b = _csv(fn(_net(planta_tables)))
    c = _csv(fn(_net(planta_tables, seed=7)))
    assert a == b
    assert a == c


def test_report_is_byte_identical(tmp_path, planta_tables):
    p1 = icnet.report(_net(planta_tables), tmp_path / "a.html")
    p2 = icnet.report(_net(planta_tables, seed=3), tmp_path / "b.html")
    assert p1.read_bytes() == p2.read_bytes()


@pytest.mark.parametrize("name", ANALYSES)
def test_rejects_a_non_network(name):
    with pytest.raises(ParameterError, match="Expected an icnet.ServiceNetwork"):
        getattr(icnet, name)(pd.DataFrame({"provider": ["a"], "client": ["b"]}))


@pytest.mark.parametrize("name", ["service_quality", "bottlenecks", "critical_path",
                                  "conflict_cycles", "balance", "retaliation_spirals"])
def test_rejects_unknown_level(name):
    with pytest.raises(ParameterError, match="'floor' is not one"):
        getattr(icnet, name)(icnet.datasets.toy(), level="floor")


def test_analyses_do_not_mutate_the_network():
    net = icnet.datasets.toy()
    before = (net.events.copy(), net.edges.copy(), net.nodes.copy())
    for name in ANALYSES:
        getattr(icnet, name)(net)
    pd.testing.assert_frame_equal(net.events, before[0])
    pd.testing.assert_frame_equal(net.edges, before[1])
    pd.testing.assert_frame_equal(net.nodes, before[2])
