"""Feasibility study of the "collapse" (shape x anchor) forecast. numpy/scipy only, 1 core.
Run: OMP_NUM_THREADS=1 python3 study.py  -> writes results.json and prints tables."""
import os
HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("OMP_NUM_THREADS", "1")
import csv, json, collections, itertools, sys
import numpy as np
from scipy.optimize import minimize

LAD = os.path.join(HERE, "../../../shared/data/ladders")
MPL = os.path.join(HERE, "../../data/mpl")
DELTA = 1e-3

# ---------------------------------------------------------------- fitting
def _fit_lse(X, lnL, grid, bounds):
    """min sum huber(LSE(terms) - lnL). X: list of ln-covariates (one per power term).
    params: [a_1, k_1, ..., a_m, k_m, e]; term_j = a_j - k_j * X_j ; plus constant e."""
    m = len(X)
    def obj(p):
        T = [p[2 * j] - p[2 * j + 1] * X[j] for j in range(m)] + [np.full_like(lnL, p[-1])]
        T = np.vstack(T)
        mx = T.max(0)
        w = np.exp(T - mx)
        s = w.sum(0)
        pred = mx + np.log(s)
        w = w / s
        r = pred - lnL
        a = np.abs(r)
        f = np.where(a <= DELTA, 0.5 * r * r, DELTA * (a - 0.5 * DELTA)).sum()
        g_r = np.clip(r, -DELTA, DELTA)
        g = np.zeros_like(p)
        for j in range(m):
            g[2 * j] = (g_r * w[j]).sum()
            g[2 * j + 1] = -(g_r * w[j] * X[j]).sum()
        g[-1] = (g_r * w[m]).sum()
        return f, g
    starts = np.array(list(itertools.product(*grid)), float)
    vals = np.array([obj(s)[0] for s in starts])
    best = None
    for i in np.argsort(vals)[:25]:
        r = minimize(obj, starts[i], jac=True, method="L-BFGS-B", bounds=bounds,
                     options=dict(ftol=1e-15, gtol=1e-12, maxiter=3000))
        if best is None or r.fun < best.fun:
            best = r
    return best.x, best.fun

AG = [0, 5, 10, 15, 20]
KG = [0.1, 0.3, 0.6, 1.0]
EG = [-2, -1, -0.5, 0, 0.5, 1, 2]

def fit_chin(N, D, L):
    """L = E + A N^-a + B D^-b (log-space Huber, multi-start L-BFGS). returns dict with predict(N,D), E."""
    lnN, lnD, lnL = np.log(N), np.log(D), np.log(L)
    bnd = [(None, None), (0, 4), (None, None), (0, 4), (None, None)]
    p, f = _fit_lse([lnN, lnD], lnL, [AG, KG, AG, KG, EG], bnd)
    a, al, b, be, e = p
    return dict(E=np.exp(e), A=np.exp(a), alpha=al, B=np.exp(b), beta=be,
                pred=lambda n, d: np.exp(e) + np.exp(a) * n ** -al + np.exp(b) * d ** -be)

def fit_law3(N, L):
    """L = E + A N^-a (N only)."""
    lnN, lnL = np.log(N), np.log(L)
    p, f = _fit_lse([lnN], lnL, [AG, KG, EG], [(None, None), (0, 4), (None, None)])
    a, al, e = p
    return dict(E=np.exp(e), A=np.exp(a), alpha=al, pred=lambda n, d=None: np.exp(e) + np.exp(a) * n ** -al)

def fit_loglin(N, L, E):
    """ln(L-E) linear in ln N (least squares)."""
    y = np.log(np.asarray(L) - E)
    sl, ic = np.polyfit(np.log(N), y, 1)
    return dict(E=E, alpha=-sl, pred=lambda n, d=None: E + np.exp(ic + sl * np.log(n)))

# ---------------------------------------------------------------- shape
def shape_matrix(fit, E, lx):
    M = []
    for c in fit:
        l = (c["L"] - E) / (c["Lf"] - E)
        M.append(np.interp(lx, np.log(c["x"]), l))
    return np.array(M)

def collapse_crit(fit, E, lx):
    M = shape_matrix(fit, E, lx)
    return M.var(0).sum() / ((M.mean(0) - 1) ** 2).sum()

def collapse_E(fits_list, lxs, lo_mult=0.0):
    """E in [lo, 0.99*min final] minimising the (scale-free) spread of the fit sizes' shapes.
    lo = -lo_mult*max final (lo_mult=0: physical E>=0). fits_list: list of fit-sets (pooled if several)."""
    hi = 0.99 * min(c["Lf"] for fit in fits_list for c in fit)
    lo = -lo_mult * max(c["Lf"] for fit in fits_list for c in fit)
    Es = np.linspace(lo, hi, 600)
    cr = [sum(collapse_crit(f, E, lx) for f, lx in zip(fits_list, lxs)) for E in Es]
    return float(Es[int(np.argmin(cr))])

def grid_for(fit, held):
    lo = max(min(c["x"].min() for c in fit), held["x"].min())
    return np.linspace(np.log(lo), 0.0, 300)

# ---------------------------------------------------------------- evaluate one case
def evaluate_case(case, extra_E=None, law_override=None):
    fit, held = case["fit"], case["held"]
    lx = grid_for(fit, held)
    Nf = np.array([c["N"] for c in fit]); Lff = np.array([c["Lf"] for c in fit])
    Nh, Dh = held["N"], held["D"]
    # anchors -----------------------------------------------------------
    anchors = {}
    fp = case["final_pts"]
    if law_override is not None:
        anchors["law"] = law_override
    elif len(set(fp["D"])) > 1:
        anchors["law"] = fit_chin(fp["N"], fp["D"], fp["L"])
    else:
        anchors["law"] = fit_law3(fp["N"], fp["L"])
    Ecoll = collapse_E([fit], [lx])
    anchors["pow_E0"] = fit_loglin(Nf, Lff, 0.0)
    anchors["pow_Ecoll"] = fit_loglin(Nf, Lff, Ecoll)
    if extra_E is not None:
        anchors["pow_Ecoll_pooled"] = fit_loglin(Nf, Lff, extra_E)
    ip = case["int_pts"]
    anchors["chin_int_all"] = fit_chin(ip["N"], ip["D"], ip["L"])
    m = ip["x"] >= 0.2
    anchors["chin_int_20"] = fit_chin(ip["N"][m], ip["D"][m], ip["L"][m])
    Ecoll_free = collapse_E([fit], [lx], lo_mult=5.0)
    Es = {"E_law": anchors["law"]["E"], "E0": 0.0, "E_coll": Ecoll, "E_coll_free": Ecoll_free}
    if extra_E is not None:
        Es["E_coll_pooled"] = extra_E
    out = dict(E=Es, anchors={}, rows={}, shape={})
    ev = held["ev"]
    xo, Lo = held["x"][ev], held["L"][ev]
    Lf_true = held["Lf"]
    for ak, an in anchors.items():
        Lhat = float(an["pred"](Nh, Dh))
        out["anchors"][ak] = dict(Lf_hat=Lhat, err=100 * abs(Lhat - Lf_true) / Lf_true,
                                  E=float(an["E"]), alpha=float(an.get("alpha", np.nan)))
    for ek, E in Es.items():
        if E >= min(Lff.min(), Lf_true):
            continue
        M = shape_matrix(fit, E, lx)
        lbar = M.mean(0)
        lh = np.interp(np.log(xo), lx, lbar)
        # shape-only (true anchor)
        Lp = E + (Lf_true - E) * lh
        so = 100 * np.mean(np.abs(Lo - Lp) / Lo)
        # diagnostics: spread of fit shapes, deviation of held-out shape, trend-extrapolated shape
        ltrue = (Lo - E) / (Lf_true - E)
        spread = 100 * np.mean((M.max(0) - M.min(0)) / lbar)
        lnN = np.log(Nf)
        if len(fit) >= 2:
            sl = np.polyfit(lnN, M, 1)
            ltr = sl[0] * np.log(Nh) + sl[1]
            lht = np.interp(np.log(xo), lx, ltr)
            so_tr = 100 * np.mean(np.abs(Lo - (E + (Lf_true - E) * lht)) / Lo)
        noise = 100 * np.mean([np.std(np.diff(c["L"], 2)) / np.sqrt(6) / np.mean(c["L"]) for c in fit + [held]])
        out["shape"][ek] = dict(E=E, noise_rel=noise, shape_only=so, spread_fit=spread,
                                dev_held=100 * np.mean(np.abs(ltrue - lh) / lh), shape_only_trend=so_tr)
        for (mode, lq), ak in itertools.product([("", lh), ("/trend", lht)], anchors):
            an = anchors[ak]
            if mode and ek not in ("E0", "E_law"):
                continue
            Lhat = out["anchors"][ak]["Lf_hat"]
            if Lhat <= E:
                continue
            Lp = E + (Lhat - E) * lq
            pe = 100 * np.mean(np.abs(Lo - Lp) / Lo)
            fe = 100 * abs(Lo[-1] - Lp[-1]) / Lo[-1]
            out["rows"][f"{ek}{mode}|{ak}"] = dict(PredE=pe, final=fe, shape_only=(so_tr if mode else so), anchor=out["anchors"][ak]["err"])
    return out

# ---------------------------------------------------------------- data
def mkcurve(N, D, x, L, Lf):
    return dict(N=float(N), D=float(D), x=np.asarray(x, float), L=np.asarray(L, float), Lf=float(Lf))

def int_points(fit, nmax=60):
    N, D, L, X = [], [], [], []
    for c in fit:
        idx = np.unique(np.round(np.geomspace(1, len(c["x"]), nmax)).astype(int) - 1)
        for i in idx:
            N.append(c["N"]); D.append(c["x"][i] * c["D"]); L.append(c["L"][i]); X.append(c["x"][i])
    return dict(N=np.array(N), D=np.array(D), L=np.array(L), x=np.array(X))

def final_pts(curves):
    return dict(N=np.array([c["N"] for c in curves]), D=np.array([c["D"] for c in curves]),
                L=np.array([c["Lf"] for c in curves]))

def load_pile():
    d = collections.defaultdict(dict)
    for r in csv.DictReader(open(f"{LAD}/pile_t5/pile_t5_val_loss.csv")):
        d[(r["model"], float(r["size_params"]))][int(r["step"])] = float(r["loss"])
    cur = {}
    for (m, N), v in d.items():
        st = np.array(sorted(s for s in v if s >= 10000)); L = np.array([v[s] for s in st])
        D = 2_000_000 * 2048 * 512
        c = mkcurve(N, D, st / 2e6, L, L[-1]); c["ev"] = st >= 20000; c["name"] = m
        cur[m.split("-")[-1]] = c
    cases = []
    for held, fit in [("xxl", ["base", "large", "xl"]), ("xl", ["base", "large"])]:
        F = [cur[k] for k in fit]
        cases.append(dict(name=f"pile_t5 {held}<-{'+'.join(fit)}", fit=F, held=cur[held],
                          final_pts=final_pts(F), int_pts=int_points(F, 200)))
    return cases, cur

def load_gpt3():
    d = collections.defaultdict(list)
    for r in csv.DictReader(open(f"{LAD}/gpt3_digitized/gpt3_loss_curves_digitized.csv")):
        if r["loss_kind"] == "val":
            d[(r["model"], float(r["size_params"]))].append((float(r["tokens_billion"]), float(r["loss"])))
    edges = np.geomspace(10, 301, 31)
    cur = {}
    for (m, N), v in d.items():
        v = np.array(v); t, L = v[:, 0], v[:, 1]
        xs, ls = [], []
        for a, b in zip(edges[:-1], edges[1:]):
            k = (t >= a) & (t < b)
            if k.sum():
                xs.append(np.exp(np.mean(np.log(t[k])))); ls.append(np.median(L[k]))
        Lf = np.median(L[t >= 290])
        xs = np.array(xs) / 300.0
        xs[-1] = min(xs[-1], 1.0)
        c = mkcurve(N, 300e9, xs, ls, Lf); c["ev"] = np.ones(len(xs), bool); c["name"] = m
        cur[m] = c
    small = sorted([c for c in cur.values() if c["N"] <= 6.8e9], key=lambda c: c["N"])
    cases = []
    for h in ["GPT-3 13B", "GPT-3 175B"]:
        cases.append(dict(name=f"gpt3 {h.split()[-1]}<-<=6.7B", fit=small, held=cur[h],
                          final_pts=final_pts(small), int_pts=int_points(small)))
    return cases, cur

def load_gzip():
    runs = {r["run_id"]: r for r in csv.DictReader(open(f"{LAD}/gzip_pcfg/runs.csv"))}
    tl = collections.defaultdict(list)
    for r in csv.DictReader(open(f"{LAD}/gzip_pcfg/train_loss_per_step.csv")):
        tl[r["run_id"]].append((int(r["step"]), float(r["train_loss"])))
    cur = collections.defaultdict(dict)
    for rid, v in tl.items():
        r = runs[rid]; v = np.array(sorted(v))
        n = int(r["n_steps"]); st, L = v[:, 0], v[:, 1]
        k = max(1, n // 50)
        Lf = L[-k:].mean()
        bud = round(float(r["train_tokens"]) / 1e5) / 10  # in M tokens, rounded
        c = mkcurve(float(r["size_params"]), float(r["train_tokens"]), st / st[-1], L, Lf)
        c["ev"] = np.ones(len(st), bool); c["name"] = rid
        cur[r["dataset"]][(c["N"], bud)] = c
    cases = []
    for ds in sorted(cur):
        Ns = sorted(set(k[0] for k in cur[ds])); buds = sorted(set(k[1] for k in cur[ds]))
        small_all = [cur[ds][(n, b)] for n in Ns[:-1] for b in buds]
        for b in buds:
            F = [cur[ds][(n, b)] for n in Ns[:-1]]
            cases.append(dict(name=f"gzip {ds} D={b}M", fit=F, held=cur[ds][(Ns[-1], b)],
                              final_pts=final_pts(small_all), int_pts=int_points(small_all, 40),
                              ds=ds, bud=b))
    return cases

def load_mpl():
    scheds = sorted(f[:-4] for f in os.listdir(f"{MPL}/csv_25"))
    raw = {}
    for s in scheds:
        for sz in (25, 100, 400):
            rows = [l.strip().split(",") for l in open(f"{MPL}/csv_{sz}/{s}.csv").read().splitlines()[1:] if l.strip()]
            a = np.array([[float(x) for x in r] for r in rows])
            last = a[-1, 0]
            if last == 24000:
                a = a[a[:, 0] < 24000]
            a = a[a[:, 0] >= 2160]
            raw[(s, sz)] = a
    cases = []
    for s in scheds:
        H = min(raw[(s, sz)][-1, 0] for sz in (25, 100, 400))  # common horizon
        C = {}
        for sz in (25, 100, 400):
            a = raw[(s, sz)]
            st, L = a[:, 0], a[:, 2]
            Lf = float(np.interp(H, st, L))
            k = st <= H
            c = mkcurve(sz * 1e6, H, st[k] / H, L[k], Lf); c["ev"] = np.ones(k.sum(), bool); c["name"] = f"{s}_{sz}"
            C[sz] = c
        F = [C[25], C[100]]
        cases.append(dict(name=f"mpl {s} (H={int(H)})", fit=F, held=C[400], final_pts=final_pts(F),
                          int_pts=int_points(F, 80), sched=s))
    return cases

def fit_mpl_joint(cases):
    """Finals of the 2 fit sizes, all schedules: L = E + A_s N^-alpha (E, alpha shared)."""
    S = len(cases)
    N = np.array([c["N"] for cs in cases for c in cs["fit"]]); L = np.array([c["Lf"] for cs in cases for c in cs["fit"]])
    sid = np.array([i for i, cs in enumerate(cases) for _ in cs["fit"]])
    lnN, lnL = np.log(N), np.log(L)
    def obj(p):
        a = p[:S][sid]; al = p[S]; e = p[S + 1]
        pred = np.logaddexp(a - al * lnN, e); r = pred - lnL
        return np.where(np.abs(r) <= DELTA, .5 * r * r, DELTA * (np.abs(r) - .5 * DELTA)).sum()
    best = None
    for al0 in [0.05, 0.1, 0.2, 0.3, 0.5, 0.8]:
        for e0 in [-1, 0, 0.5, 1.0]:
            for a0 in [2, 5, 10]:
                p0 = np.r_[np.full(S, a0), al0, e0]
                r = minimize(obj, p0, method="L-BFGS-B", bounds=[(None, None)] * S + [(0, 4), (None, None)],
                             options=dict(ftol=1e-15, gtol=1e-12, maxiter=5000))
                if best is None or r.fun < best.fun:
                    best = r
    p = best.x
    E, al = np.exp(p[S + 1]), p[S]
    out = []
    for i in range(S):
        A = np.exp(p[i])
        out.append(dict(E=E, alpha=al, pred=lambda n, d=None, A=A: E + A * n ** -al))
    return out

# ---------------------------------------------------------------- main
def summarize(results):
    keys = list(results[0]["rows"].keys())
    for r in results[1:]:
        keys = [k for k in keys if k in r["rows"]]
    tab = {}
    for k in keys:
        v = np.array([[r["rows"][k][m] for m in ("PredE", "final", "shape_only", "anchor")] for r in results])
        tab[k] = dict(mean=v.mean(0).tolist(), sd=v.std(0).tolist(), median=np.median(v, 0).tolist(),
                      max=v.max(0).tolist())
    return tab

if __name__ == "__main__":
    allres = {}
    pile, pcur = load_pile()
    allres["pile_t5"] = [dict(name=c["name"], **evaluate_case(c)) for c in pile]
    print("pile done", flush=True)
    g3, gcur = load_gpt3()
    allres["gpt3"] = [dict(name=c["name"], **evaluate_case(c)) for c in g3]
    print("gpt3 done", flush=True)
    mpl = load_mpl()
    joint = fit_mpl_joint(mpl)
    lxs = [grid_for(c["fit"], c["held"]) for c in mpl]
    Epool = collapse_E([c["fit"] for c in mpl], lxs)
    allres["mpl"] = [dict(name=c["name"], **evaluate_case(c, extra_E=Epool, law_override=j)) for c, j in zip(mpl, joint)]
    print("mpl done", flush=True)
    gz = load_gzip()
    allres["gzip"] = []
    for c in gz:
        allres["gzip"].append(dict(name=c["name"], **evaluate_case(c)))
    print("gzip done", flush=True)

    def conv(o):
        if isinstance(o, dict): return {k: conv(v) for k, v in o.items()}
        if isinstance(o, list): return [conv(v) for v in o]
        if isinstance(o, (np.floating, np.integer)): return float(o)
        return o
    summ = {k: summarize(v) for k, v in allres.items()}
    json.dump(conv(dict(cases=allres, summary=summ)), open(os.path.join(HERE, "results.json"), "w"), indent=1)
    for ds, tab in summ.items():
        print(f"\n== {ds}  (mean over {len(allres[ds])} cases) PredE final shape_only anchor")
        for k, v in sorted(tab.items(), key=lambda kv: kv[1]["mean"][0]):
            print(f"{k:32s} " + " ".join(f"{x:8.3f}" for x in v["mean"]))
