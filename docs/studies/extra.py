"""Extra diagnostics: Pile-T5 anchor feasibility, MPL implied E, gzip finals, LaMDA shape-only.
Run: OMP_NUM_THREADS=1 python3 extra.py"""
import os
os.environ.setdefault("OMP_NUM_THREADS", "1")
import csv, collections
import numpy as np
from collapse_study import load_pile, load_mpl, load_gzip, shape_matrix, LAD

print("=== Pile-T5 finals (step 2M)")
_, cur = load_pile()
ks = ["base", "large", "xl", "xxl"]
N = np.array([cur[k]["N"] for k in ks]); L = np.array([cur[k]["Lf"] for k in ks])
for k, n, l in zip(ks, N, L):
    print(f"  {k:6s} N={n:.4g} L_final={l:.4f}")
sl = -np.diff(np.log(L)) / np.diff(np.log(N))
print("  local log-slope -dlnL/dlnN between successive sizes:", np.round(sl, 4))
print("  (any E>=0 law E+A N^-a with A,a>0 has log-slope a(L-E)/L, which can only DECREASE with N;")
print("   the three smaller sizes need an INCREASING slope, so no such law fits them exactly)")
# best monotone power law for each E on a grid (LS in log space through the 3 smaller finals)
res = []
for E in np.linspace(0, 0.64, 129):
    y = np.log(L[:3] - E)
    b, a = np.polyfit(np.log(N[:3]), y, 1)
    if b >= 0:
        continue
    pred = E + np.exp(a + b * np.log(N[3]))
    rms = np.sqrt(np.mean((E + np.exp(a + b * np.log(N[:3])) - L[:3]) ** 2))
    res.append((E, -b, pred, rms))
res = np.array(res)
print("  E grid 0..0.64, LS fit ln(L-E)~lnN on base/large/xl: predicted xxl final range "
      f"[{res[:,2].min():.4f}, {res[:,2].max():.4f}] (true {L[3]:.4f}); in-sample RMS range [{res[:,3].min():.4f}, {res[:,3].max():.4f}]")
for E in [0, 0.3, 0.5, 0.6, 0.63]:
    r = res[np.argmin(np.abs(res[:, 0] - E))]
    print(f"   E={r[0]:.3f} alpha={r[1]:.3f} pred_xxl={r[2]:.4f} err={100*abs(r[2]-L[3])/L[3]:.1f}% fitRMS={r[3]:.4f}")
# exact 2-point laws through any pair of the three, E in [0, 0.64]
preds = []
for i, j in [(0, 1), (1, 2), (0, 2)]:
    for E in np.linspace(0, 0.644, 200):
        al = np.log((L[i] - E) / (L[j] - E)) / np.log(N[j] / N[i])
        p = E + (L[j] - E) * (N[3] / N[j]) ** -al
        # in-sample miss on the third point
        k = 3 - i - j
        pk = E + (L[j] - E) * (N[k] / N[j]) ** -al
        preds.append((i, j, E, p, abs(pk - L[k])))
preds = np.array(preds)
ok = preds[:, 4] < 0.005
print(f"  exact 2-point laws (any pair, E in [0,0.644]) that also pass within 0.005 of the third point: "
      f"{ok.sum()} of {len(preds)}; their xxl predictions: "
      + (f"[{preds[ok,3].min():.4f}, {preds[ok,3].max():.4f}]" if ok.any() else "none"))
print(f"  all 2-point laws (xl + one smaller): xxl prediction range "
      f"[{preds[preds[:,1]==2][:,3].min():.4f}, {preds[preds[:,1]==2][:,3].max():.4f}]")
# what law through xl and xxl implies
for E in [0.0, 0.5, 0.58, 0.6]:
    al = np.log((L[2] - E) / (L[3] - E)) / np.log(N[3] / N[2])
    pb = E + (L[2] - E) * (N[0] / N[2]) ** -al
    print(f"   law through xl&xxl with E={E}: alpha={al:.3f}, implied base final={pb:.4f} (true {L[0]:.4f})")
# xxl at other steps
for st in [500000, 1000000, 1500000, 2000000]:
    v = [np.interp(st / 2e6, cur[k]["x"], cur[k]["L"]) for k in ks]
    s2 = -np.diff(np.log(v)) / np.diff(np.log(N))
    print(f"  step {st}: losses {np.round(v,4)}, log-slopes {np.round(s2,4)}")

print("\n=== MPL: E that puts the 3 finals (25M,100M,400M) on one power law (uses the held-out size; diagnostic only)")
for c in load_mpl():
    L3 = [c["fit"][0]["Lf"], c["fit"][1]["Lf"], c["held"]["Lf"]]
    # equal ratio in N (x4 each): (L2-E)^2 = (L1-E)(L3-E)
    E = (L3[1] ** 2 - L3[0] * L3[2]) / (2 * L3[1] - L3[0] - L3[2])
    # anchor error of the E=0 two-point law
    al0 = np.log(L3[0] / L3[1]) / np.log(4)
    p0 = L3[1] * 4 ** -al0
    print(f"  {c['name']:32s} finals {np.round(L3,4)}  implied E={E:.3f}  E=0 2-pt law pred {p0:.4f} err {100*abs(p0-L3[2])/L3[2]:.2f}%")
    # anchor error as function of an assumed E
    errs = []
    for Eg in [0.5, 1.0, 1.5, 2.0]:
        a = np.log((L3[0] - Eg) / (L3[1] - Eg)) / np.log(4)
        p = Eg + (L3[1] - Eg) * 4 ** -a
        errs.append(round(100 * abs(p - L3[2]) / L3[2], 2))
    print(f"      anchor err % for assumed E=0.5,1,1.5,2: {errs}")

print("\n=== gzip finals (mean of last 2% of steps of train loss), rows=size, cols=budget")
gz = load_gzip()
bydat = collections.defaultdict(dict)
for c in gz:
    for f in c["fit"] + [c["held"]]:
        bydat[c["ds"]][(f["N"], c["bud"])] = f["Lf"]
for ds, d in bydat.items():
    Ns = sorted(set(k[0] for k in d)); bs = sorted(set(k[1] for k in d))
    print(" ", ds, "budgets(M tok):", bs)
    for n in Ns:
        print(f"    N={n:.3g}: " + " ".join(f"{d[(n,b)]:7.3f}" for b in bs))

print("\n=== LaMDA (normalised curves): shape-only test, E=0 (ratio collapse is invariant to the normalisation)")
d = collections.defaultdict(list)
for r in csv.DictReader(open(f"{LAD}/lamda_revisiting/lamda_lm_val_loss.csv")):
    d[float(r["size_params"])].append((float(r["seen_examples"]), float(r["loss"])))
curves = []
for n in sorted(d):
    v = np.array(sorted(d[n]))
    curves.append(dict(N=n, x=v[:, 0] / v[-1, 0], L=v[:, 1], Lf=v[-1, 1], tmax=v[-1, 0]))
    print(f"  N={n:.3g}: {len(v)} pts, last seen_examples={v[-1,0]:.3g}, final (normalised)={v[-1,1]:.4f}")
for mode in ["fraction-of-run x", "absolute tokens (x=t/t_max of held)"]:
    held, fit = curves[-1], curves[:-1]
    if mode.startswith("abs"):
        # restrict all curves to the held-out run's token range and normalise at that point
        T = held["tmax"]
        fit2 = []
        for c in fit:
            t = c["x"] * c["tmax"]
            if t[-1] < T:
                continue
            Lf = np.interp(T, t, c["L"])
            k = t <= T
            fit2.append(dict(N=c["N"], x=t[k] / T, L=c["L"][k], Lf=Lf))
        fit = fit2
    lx = np.linspace(np.log(max(held["x"].min(), max(c["x"].min() for c in fit))), 0, 300)
    M = shape_matrix(fit, 0.0, lx)
    lb = M.mean(0)
    lh = np.interp(np.log(held["x"]), lx, lb)
    so = 100 * np.mean(np.abs(held["L"] - held["Lf"] * lh) / held["L"])
    sp = 100 * np.mean((M.max(0) - M.min(0)) / lb)
    sl = np.polyfit(np.log([c["N"] for c in fit]), M, 1)
    lt = np.interp(np.log(held["x"]), lx, sl[0] * np.log(held["N"]) + sl[1])
    so_t = 100 * np.mean(np.abs(held["L"] - held["Lf"] * lt) / held["L"])
    print(f"  {mode}: fit sizes {[round(c['N']/1e6) for c in fit]}M: shape spread {sp:.2f}%, shape-only PredE (mean) {so:.3f}%, trend-in-lnN {so_t:.3f}%")
