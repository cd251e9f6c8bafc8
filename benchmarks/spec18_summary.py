"""Summarise benchmarks/spec18_dev.csv: per scenario and size, planted pairs found,
initiators right and organisations with a false spiral, for each variant against main.

    python benchmarks/spec18_summary.py benchmarks/spec18_dev.csv
"""
import sys
import pandas as pd

d = pd.read_csv(sys.argv[1])
vs = list(dict.fromkeys(d["variant"]))
g = d.groupby(["null", "scenario", "n_people", "variant"], sort=False)
s = g.agg(hit=("n_hit", "sum"), truth=("n_truth", "sum"), init=("n_initiator_ok", "sum"),
          fs_orgs=("n_false_spiral", lambda x: int((x > 0).sum())),
          orgs=("seed", "size")).reset_index()
s["cell"] = s.apply(lambda r: (f"{r.fs_orgs}/{r.orgs}" if r.null else
                               f"{r.hit}/{r.truth} i{r.init}"), axis=1)
print(f"# {' '.join(sys.argv)}")
print("nulls: organisations with a false spiral; mechanisms: planted pairs found / planted, "
      "i = initiator right")
print(s.pivot_table(index=["null", "scenario", "n_people"], columns="variant", values="cell",
                    aggfunc="first")[vs].to_string())
