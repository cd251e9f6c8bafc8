"""[Record of the spec16 experiment, not adopted: this script needs the code of the tag
`experiment/spec16` (commit 43afe53) — docs/methods/spirals-record.md, "Untestable
specificity (spec16): tried, not kept".]

spec16 (issue #18): the untestable-specificity rules evaluated offline on the
development pairs (``benchmarks/spec16_dev_pairs.csv``, every pair that is a ``spiral``
with the rule off, with both sides' specificity evidence) and organisations
(``benchmarks/spec16_dev.csv``, variant ``off``). A rule only turns change-test spirals into
joint_shifts, so its hits, initiators and false spirals follow exactly from the pairs.

    python benchmarks/spec16_rules.py benchmarks/spec16_dev.csv [RULE,RULE...]

Per side s of a pair: ``chk(m)``: services to others in and outside the window and
dy / sqrt(1/nwo + 1/noo) <= -(2.7 + m) (m = -inf: just "has services to others in and
outside"); ``tg(zt)``: (doth - dy) / sqrt(1/nwo + 1/noo + 1/nwy + 1/noy) >= zt (the drop to
the partner credibly larger than to the others). Rules: ``p{m}_any`` demote when a side
fails chk (``_both``: both sides); ``t{zt}_p{m}_*``: a side fails when neither chk nor tg;
``bnt_t{zt}_p{m}``: a side fails chk and no side passes tg. Writes
``benchmarks/spec16_rules.csv`` (per scenario, size and rule: orgs, truth, hits, initiator
right, orgs with a false spiral, false spirals, recall).
"""
import sys, numpy as np, pandas as pd
pd.set_option('display.width',250); pd.set_option('display.max_columns',60); pd.set_option('display.max_rows',500)
rows=pd.read_csv(sys.argv[1]); pairs=pd.read_csv(sys.argv[1].replace('.csv','_pairs.csv'))
off=rows[rows.variant=='off'].copy()
def side(p,s,m,zt):
    nwo,noo,nwy,noy=[p[f'{c}_{s}'].to_numpy(float) for c in ('nwo','noo','nwy','noy')]
    dy,do=p[f'dy_{s}'].to_numpy(float),p[f'doth_{s}'].to_numpy(float)
    with np.errstate(all='ignore'):
        seo=np.sqrt(1/nwo+1/noo); sey=np.sqrt(1/nwy+1/noy)
        chk=(nwo>0)&(noo>0)&(np.fmin(dy,0)/seo <= -(2.7+m))
        T=(do-dy)/np.sqrt(seo**2+sey**2)
    tg=np.nan_to_num(T,nan=-np.inf)>=zt
    return ~(chk|tg)
def rule(p,m,zt,how):
    if how=='blindnt':
        ba,bb=side(p,'ab',m,np.inf),side(p,'ba',m,np.inf)
        ta,tb=~side(p,'ab',np.inf,zt),~side(p,'ba',np.inf,zt)
        return (ba|bb)&~(ta|tb)&p.change_test.to_numpy(bool)
    fa,fb=side(p,'ab',m,zt),side(p,'ba',m,zt)
    d=(fa|fb) if how=='any' else (fa&fb)
    return d & p.change_test.to_numpy(bool)
RULES={'off':None}
for m in [-np.inf,-2,-1,0]:
    for how in ['any','both']:
        RULES[f'p{m}_{how}']=(m,np.inf,how)
for zt in [0,1.0,1.645]:
    for m in [np.inf,0,-1]:
        for how in ['any','both']:
            RULES[f't{zt}_p{m}_{how}']=(m,zt,how)
for zt in [0,1.0,1.645,2.0]:
    for m in [-np.inf,-2,-1,0]:
        RULES[f'bnt_t{zt}_p{m}']=(m,zt,'blindnt')
if len(sys.argv)>2: RULES={k:v for k,v in RULES.items() if k=='off' or k in sys.argv[2].split(',')}
out=[]
for name,r in RULES.items():
    dem=np.zeros(len(pairs),bool) if r is None else rule(pairs,*r)
    p=pairs.assign(dem=dem)
    g=p.groupby(['scenario','n_people','seed'])
    fal=g.apply(lambda x:((~x.planted)&(~x.dem)).sum()).rename('fs')
    lost=g.apply(lambda x:(x.planted&x.dem).sum()).rename('lost')
    lini=g.apply(lambda x:(x.planted&x.dem&(x.initiator.astype(str)==x.true_initiator.astype(str))).sum()).rename('lini')
    o=off.set_index(['scenario','n_people','seed']).join([fal,lost,lini]).fillna(0)
    o['hit']=o.n_hit-o.lost; o['ini']=o.n_initiator_ok-o.lini
    o['fs']=np.where(o.index.get_level_values(0).isin(pairs.scenario.unique()),o.fs,0)
    s=o.groupby(['scenario','n_people']).agg(orgs=('hit','size'),truth=('n_truth','sum'),hit=('hit','sum'),ini=('ini','sum'),orgs_fs=('fs',lambda x:(x>0).sum()),fs=('fs','sum'))
    s['rule']=name; out.append(s.reset_index())
res=pd.concat(out)
res['recall']=res.hit/res.truth.replace(0,np.nan); res['ini_share']=res.ini/res.hit.replace(0,np.nan)
piv=res.pivot_table(index=['scenario','n_people'],columns='rule',values=['recall','orgs_fs'],sort=False)
null=res[res.truth==0].pivot_table(index=['scenario','n_people'],columns='rule',values='orgs_fs')
mech=res[res.truth>0].pivot_table(index=['scenario','n_people'],columns='rule',values='hit')
print(null.T.to_string()); print(mech.T.to_string())
res.to_csv(sys.argv[1].replace('_dev.csv', '_rules.csv'), index=False)
