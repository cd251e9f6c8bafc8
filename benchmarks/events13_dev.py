"""events13 dev harness: validity bottleneck scenarios, 40 dev seeds (n*1000+500+i), satisfaction dropped;
service and agreements dropped too unless E13_SVC=1 / E13_AG=1. Usage: events13_dev.py SEEDS SIZES TAG."""
import sys, pickle, os, time, warnings
import numpy as np, pandas as pd
import icnet
AG = os.environ.get('E13_AG') == '1'
SVC = os.environ.get('E13_SVC') == '1'
from icnet.validity import generate
SC = ["deep_chain", "backlog_growth", "single_point_of_failure", "small_peer_group",
      "baseline", "shock_season", "overload_episodes", "org_slowdown", "tight_agreements", "no_satisfaction"]
NULL = set(SC[4:])
def nets(name, n, seeds):
    os.makedirs("/tmp/e13", exist_ok=True)   # cache of the generated tables
    path = f"/tmp/e13/cache_{name}_{n}_{seeds}.pkl" if not (AG or SVC) else f"/tmp/e13/cache{'svc' if SVC else ''}{'ag' if AG else ''}_{name}_{n}_{seeds}.pkl"
    if os.path.exists(path):
        return pickle.load(open(path, "rb"))
    out = []
    for i in range(seeds):
        s = n * 1000 + 500 + i
        d = generate(name, n_people=n, seed=s)
        ev = d.events.drop(columns=[c for c in (("satisfaction",) if SVC else ("service", "satisfaction")) if c in d.events])
        tr = d.truth.get("bottlenecks")
        t = set() if tr is None else set(tr["node"].astype(str))
        out.append((ev, d.people, t, d.agreements if AG else None))
    pickle.dump(out, open(path, "wb"))
    return out
def main():
    seeds = int(sys.argv[1]); sizes = [int(x) for x in sys.argv[2].split(",")]
    tag = sys.argv[3] if len(sys.argv) > 3 else "run"
    rows = []
    for n in sizes:
        for name in SC:
            for ev, people, t, ag in nets(name, n, seeds):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    net = icnet.from_events(ev, people=people, agreements=ag)
                    b = icnet.bottlenecks(net)
                fl = set(b.loc[b["is_bottleneck"], "node"].astype(str))
                k = max(1, len(t))
                top = set(b["node"].astype(str).head(k))
                pg = b.loc[b["node"].astype(str).isin(t), "peer_group"].tolist()
                rows.append(dict(scenario=name, n=n, null=name in NULL, any_flag=bool(fl),
                                 hit=bool(t) and t <= fl, topk=bool(t) and t <= fl and t <= top,
                                 n_flag=len(fl), peer=pg[0] if pg else ""))
    df = pd.DataFrame(rows)
    df.to_csv(f"/tmp/e13/dev_{tag}{'_ag' if AG else ''}{'_svc' if SVC else ''}.csv", index=False)
    g = df.groupby(["scenario", "n"], sort=False).agg(any_flag=("any_flag", "mean"), hit=("hit", "mean"),
                                           topk=("topk", "mean"), orgs=("hit", "size"))
    print(g.to_string())
    nul = df[df.null]
    print("null orgs with any flag:", nul.any_flag.mean(), "of", len(nul))
if __name__ == "__main__":
    main()
