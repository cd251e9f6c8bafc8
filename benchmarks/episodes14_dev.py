"""episodes14 development runs (#18): the scoreboard's own spirals scoring
(icnet.validity.scoreboard._spirals, n_perm=199) on DEVELOPMENT seeds (600500+i at 600
people, 150500+i at 150; never the scoreboard's 600000.. / 150000..), appended to a CSV.

Run: PYTHONPATH=src python benchmarks/episodes14_dev.py VARIANT N SCEN1,SCEN2 NSEEDS OUT.csv
(VARIANT labels the rows: "main" from a checkout of main, "branch" from this branch).
"""
# dev runner: scoreboard's own spirals scoring on dev seeds; appends rows to a CSV
import sys, time, os, pandas as pd
from icnet.validity.scenarios import SCENARIOS
from icnet.validity import scoreboard as sb
variant, n, scens, nseed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), int(sys.argv[4]), sys.argv[5]
base = 600500 if n == 600 else 150500
for scen in scens:
    rows = []
    for seed in range(base, base + nseed):
        data = SCENARIOS[scen].build(n, seed)
        net = data.network()
        t = time.time()
        r = sb._spirals(data, net, seed)
        r.update(variant=variant, scenario=scen, n_people=n, seed=seed,
                 null="spirals" in data.null_for, seconds=round(time.time() - t, 2))
        rows.append(r)
    df = pd.DataFrame(rows)
    df.to_csv(out, mode="a", header=not os.path.exists(out), index=False)
    print(scen, n, df.n_hit.sum(), "/", df.n_truth.sum(), "init", df.n_initiator_ok.sum(),
          "false_spiral_orgs", (df.n_false_spiral > 0).sum(), "false_retal_orgs", (df.n_false > 0).sum(), flush=True)
