"""Build markdown tables from results.json -> tables.md"""
import os
HERE = os.path.dirname(os.path.abspath(__file__))
import json, numpy as np
R = json.load(open(os.path.join(HERE, 'results.json')))
S = R['summary']
ds_order = ['pile_t5', 'gpt3', 'mpl', 'gzip']
common = set.intersection(*[set(S[d]) for d in ds_order])
out = []
# per-case table for pile/gpt3 + per dataset summary
for d in ds_order:
    cases = R['cases'][d]
    out.append(f"\n### {d}: mean over {len(cases)} case(s)" + (" (± sd across cases; median in brackets)" if d == 'gzip' else ""))
    out.append("| shape E / mode | anchor | PredE % | final-pt % | shape-only PredE % | anchor err % |")
    out.append("|---|---|---|---|---|---|")
    for k, v in sorted(S[d].items(), key=lambda kv: kv[1]['mean'][0]):
        s, a = k.split('|')
        if d == 'gzip':
            cells = [f"{m:.1f} ± {sd:.1f} [{md:.1f}]" for m, sd, md in zip(v['mean'], v['sd'], v['median'])]
        else:
            cells = [f"{m:.3f}" for m in v['mean']]
        out.append(f"| {s} | {a} | " + " | ".join(cells) + " |")
    if d in ('pile_t5', 'gpt3', 'mpl'):
        out.append(f"\nPer case ({d}), E values and anchors:")
        out.append("| case | E_law | E_coll (E>=0) | E_coll_free | anchor: L̂_final (err %) law / pow_E0 / chin_int_all / chin_int_20 | true final | shape-only E0 / E0-trend | spread of fit ℓ % | noise % |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for c in cases:
            A = c['anchors']
            an = " / ".join(f"{A[k]['Lf_hat']:.4f} ({A[k]['err']:.2f})" for k in ['law', 'pow_E0', 'chin_int_all', 'chin_int_20'])
            sh = c['shape']['E0']
            tf = A['law']['Lf_hat'] / (1 + 0) # placeholder
            out.append(f"| {c['name']} | {c['E']['E_law']:.3f} | {c['E']['E_coll']:.3f} | {c['E']['E_coll_free']:.3f} | {an} | {{TF}} | {sh['shape_only']:.3f} / {sh['shape_only_trend']:.3f} | {sh['spread_fit']:.2f} | {sh['noise_rel']:.3f} |")
# cross-dataset ranking
out.append("\n### Across datasets (variants present in all four; equal weight per dataset)")
out.append("| shape E / mode | anchor | pile_t5 | gpt3 | mpl | gzip | mean of 3 (no gzip) | mean rank (4 ds) |")
out.append("|---|---|---|---|---|---|---|---|")
ranks = {d: {k: r for r, (k, _) in enumerate(sorted(((k, S[d][k]['mean'][0]) for k in common), key=lambda t: t[1]))} for d in ds_order}
rows = []
for k in common:
    v = [S[d][k]['mean'][0] for d in ds_order]
    rows.append((np.mean(v[:3]), k, v, np.mean([ranks[d][k] + 1 for d in ds_order])))
for m3, k, v, rk in sorted(rows):
    s, a = k.split('|')
    out.append(f"| {s} | {a} | " + " | ".join(f"{x:.2f}" for x in v) + f" | {m3:.2f} | {rk:.1f} |")
# shape-only across datasets
out.append("\n### Shape-only PredE % (true final as anchor), by shape variant")
out.append("| shape | " + " | ".join(ds_order) + " |")
out.append("|---|---|---|---|---|")
shp = {}
for d in ds_order:
    for k, v in S[d].items():
        shp.setdefault(k.split('|')[0], {})[d] = v['mean'][2]
for s, v in shp.items():
    out.append(f"| {s} | " + " | ".join(f"{v[d]:.3f}" if d in v else "n/a" for d in ds_order) + " |")
# anchor-only
out.append("\n### Anchor error % (final loss of held-out size), by anchor law")
out.append("| anchor | " + " | ".join(ds_order) + " |")
out.append("|---|---|---|---|---|")
anc = {}
for d in ds_order:
    for k, v in S[d].items():
        anc.setdefault(k.split('|')[1], {})[d] = v['mean'][3]
for s, v in anc.items():
    out.append(f"| {s} | " + " | ".join(f"{v[d]:.3f}" if d in v else "n/a" for d in ds_order) + " |")
open(os.path.join(HERE, 'tables.md'), 'w').write("\n".join(out))
