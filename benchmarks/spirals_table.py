"""Markdown tables of the spiral rows of the pooled scoreboard, for docs/methods/spirals.md:

    python benchmarks/spirals_table.py benchmarks/validity_records.csv

Bold: a bound of issue #18 not met. "reported as any finding": planted pairs whose kind is
`spiral`, `joint_shift` or `one_sided` (a dated finding the report and the actions name; no
bound), "–" for records made before the column existed."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
import pandas as pd
from icnet.validity import scoreboard
r = pd.read_csv(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/validity_records.csv")
sb = scoreboard.scoreboard(r)
sb = sb[sb.detector == "spirals"]
def v(scen, metric):
    out = []
    for n in (150, 600):
        x = sb[(sb.scenario == scen) & (sb.metric == metric) & (sb.n_people == n)]
        if not len(x):
            out.append("–"); continue
        x = x.iloc[0]
        s = f"{x.value:.1f}" if "days" in metric else f"{x.value:.2f}"
        if str(x.passed).lower() == "no":
            s = f"**{s}**"
        out.append(s)
    return " / ".join(out)
names = [("lock_in", "lock-in"), ("slow_escalation", "slow escalation"), ("episodic", "one episode"),
         ("episodic_two", "two episodes"), ("delay_only", "delays only"),
         ("between_units", "between units (unit level)"),
         ("one_sided", "one-sided answers (`spiral` or `one_sided`)")]
ANY = "reported as any finding (spiral, joint_shift, one_sided)"
print("| mechanism | recall | reported as any finding | precision | initiator right (of found) "
      "| median onset error (days) |")
print("|---|---|---|---|---|---|")
for s, lab in names:
    print(f"| {lab} | {v(s, 'recall')} | {v(s, ANY)} | {v(s, 'precision')} | "
          f"{v(s, 'initiator right (of found)')} | {v(s, 'median onset error (days)')} |")
print()
print("| null or confounder | orgs with a false `spiral` | with a false `spiral` or `one_sided` |")
print("|---|---|---|")
for s in ["baseline", "shock_season", "org_slowdown", "no_satisfaction", "chronic_conflict",
          "unit_bad_month", "overload_episodes", "common_cause", "joint_bad_periods"]:
    print(f"| `{s}` | {v(s, 'orgs with false spiral')} | {v(s, 'orgs with false spiral/one_sided')} |")
