"""The report reads well (issue #23, point 7): tables that wrap or scroll, the same counts in
tables and figures, and boilerplate actions grouped into one line per rule."""

import re
import warnings

import matplotlib
import pandas as pd
import pytest

import icnet
from icnet.reporting import group_actions

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def planta_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = icnet.report(icnet.datasets.load("planta"), out / "report.html", tables=True)
    return path.read_text(encoding="utf-8"), out


def test_every_table_scrolls_or_wraps(planta_report):
    html, _ = planta_report
    n_tables = html.count("<table")
    assert n_tables >= 4
    assert html.count('<div class="table-wrap"><table') == n_tables
    css = html[html.index("<style>"):html.index("</style>")]
    assert re.search(r"\.table-wrap\s*\{[^}]*overflow-x:\s*auto", css)
    assert "overflow-wrap: anywhere" in css and "@media (max-width" in css


def test_spiral_counts_agree_between_table_summary_and_figure(planta_report):
    html, out = planta_report
    sp = pd.read_csv(out / "spirals.csv")
    # planta's planted pair is a joint drop by default (four-day turns do not show)
    rounds = int(sp.loc[sp["kind"] == "joint_shift", "rounds"].iloc[0])
    assert f"the joint drop without turns of the table between two of " \
           f"their members ({rounds} rounds)" in html            # the figure's caption
    net = icnet.datasets.load("planta")
    for kind, words in (("joint_shift", "joint drop without turns"),
                        ("spiral", "retaliation spiral")):
        s = icnet.retaliation_spirals(net, turn_taking=kind == "joint_shift")
        row = s[s["kind"] == kind].iloc[0]
        ax = icnet.plot.spiral_timeline(net, row["a"], row["b"], spiral=row)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert f"{words} ({int(row['rounds'])} rounds)" in labels
        assert not any(t.startswith("escalation chain") for t in labels)   # one count
    # without a spiral row the figure keeps its own chain (documented as turns)
    ax = icnet.plot.spiral_timeline(net, row["a"], row["b"])
    assert any("turns" in t.get_text() for t in ax.get_legend().get_texts())


def test_repeated_actions_are_one_line_per_rule(planta_report):
    html, out = planta_report
    act = pd.read_csv(out / "actions.csv")                  # the CSV keeps every row
    many = act["rule"].value_counts()
    many = many[many >= 3]
    assert len(many) >= 1
    section = html[html.index('id="actions"'):]
    rows = section.count("<tr>")                        # body rows (the header has a style)
    assert rows == len(act) - int((many - 1).sum())
    g = group_actions(act)
    for rule, n in many.items():
        line = g[g["rule"] == rule]
        assert len(line) == 1 and line["n_targets"].item() == n
        targets = act.loc[act["rule"] == rule, "target"]
        assert line["target"].item() == "; ".join(targets)
        for t, ev in zip(targets, act.loc[act["rule"] == rule, "evidence"]):
            assert f"{t}: " in line["evidence"].item() and ev in line["evidence"].item()


def test_group_actions_keeps_rare_rules_and_empty_tables():
    a = pd.DataFrame({"priority": [1, 2], "owner_role": ["HR", "area head"],
                      "target": ["A", "B"], "action": ["x", "y"], "reason": ["r", "s"],
                      "evidence": ["e", "f"], "rule": ["spiral", "late"]})
    g = group_actions(a)
    assert g[a.columns].equals(a) and (g["n_targets"] == 1).all()
    assert len(group_actions(a.iloc[:0])) == 0
