// losscast report: interactive charts drawn from the page's embedded JSON with uPlot. Data only
// ever reaches the page through textContent, never as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("losscast-data").textContent);
  // Okabe–Ito: distinguishable in colour-blind vision and in greyscale print.
  var COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#777777"];
  var DASHES = [[], [6, 3], [2, 2], [8, 3, 2, 3]];
  var hidden = {};
  var charts = [];
  var logx = false, logy = false;

  function colour(i) { return COLOURS[i % COLOURS.length]; }
  // A run name as shown: direction controls (U+202E turns "evil" into "live") and other
  // invisible format characters are spelt out, so a name reads as it is.
  function shown(name) {
    return String(name).replace(/[\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]/g, function (c) {
      return "<U+" + c.charCodeAt(0).toString(16).toUpperCase() + ">";
    });
  }
  function dash(i) { return DASHES[Math.floor(i / COLOURS.length) % DASHES.length]; }
  function fmt(v, d) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential((d || 5) - 1);
    return Number(v.toPrecision(d || 5)).toString();
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function width(node) { return Math.max(320, (node.clientWidth || 900) - 4); }

  // Align several (x, y...) tables on the union of their x values, null where a table has none.
  function align(tables) {
    var xs = {};
    tables.forEach(function (t) { t.x.forEach(function (x) { xs[x] = true; }); });
    var x = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    var at = {};
    x.forEach(function (v, i) { at[v] = i; });
    var cols = [x];
    tables.forEach(function (t) {
      t.ys.forEach(function (y) {
        var col = new Array(x.length).fill(null);
        if (y) t.x.forEach(function (v, j) { col[at[v]] = y[j]; });
        cols.push(col);
      });
    });
    return cols;
  }

  // Zoom on one chart of a group sets the others' x range too.
  function linkX(group) {
    var busy = false;
    return function (u, key) {
      if (key !== "x" || busy) return;
      busy = true;
      charts.forEach(function (c) {
        if (c.group === group && c.u !== u) c.u.setScale("x", { min: u.scales.x.min, max: u.scales.x.max });
      });
      busy = false;
    };
  }

  function make(node, opts, cols, runOf, group, readout) {
    opts.width = width(node);
    opts.hooks = opts.hooks || {};
    opts.hooks.setScale = [linkX(group)];
    opts.cursor = { sync: { key: group }, drag: { x: true, y: false } };
    opts.legend = { show: false };
    if (readout) opts.hooks.setCursor = [readout];
    var u = new uPlot(opts, cols, node);
    var c = { u: u, runOf: runOf, group: group, node: node };
    charts.push(c);
    applyHidden(c);
    return c;
  }

  function applyHidden(c) {
    c.runOf.forEach(function (r, s) {
      if (r !== null) c.u.setSeries(s, { show: !hidden[r] });
    });
  }

  function lossChart(i, law) {
    var node = document.getElementById("chart-loss-" + i);
    var series = [{ label: "step" }];
    var runOf = [null];
    var tables = [];
    var bands = [];
    data.runs.forEach(function (run, r) {
      var c = law.curves[r];
      var test = run.role === "test";
      var ys = [run.loss, c.predicted];
      series.push({ label: shown(run.name) + " observed", stroke: colour(r), width: 0, paths: function () { return null; },
        points: { show: true, size: 3, fill: colour(r), stroke: colour(r) } });
      series.push({ label: shown(run.name) + " predicted", stroke: colour(r), width: 1.6, dash: test ? [6, 3] : dash(r),
        spanGaps: true, points: { show: false } });
      runOf.push(r, r);
      if (test && c.lo && c.hi) {
        ys.push(c.lo, c.hi);
        series.push({ label: shown(run.name) + " lo", stroke: "transparent", spanGaps: true, points: { show: false } });
        series.push({ label: shown(run.name) + " hi", stroke: "transparent", spanGaps: true, points: { show: false } });
        runOf.push(r, r);
        bands.push({ series: [series.length - 1, series.length - 2], fill: colour(r) + "30" });
      }
      tables.push({ x: run.step, ys: ys });
    });
    var cols = align(tables);
    var readoutNode = document.getElementById("readout-" + i);
    function readout(u) {
      var idx = u.cursor.idx;
      readoutNode.textContent = "";
      if (idx === null || idx === undefined) return;
      readoutNode.appendChild(el("b", null, "step " + u.data[0][idx]));
      var s = 1;
      data.runs.forEach(function (run, r) {
        var o = u.data[s][idx], p = u.data[s + 1][idx];
        var c = law.curves[r];
        s += (run.role === "test" && c.lo && c.hi) ? 4 : 2;
        if (hidden[r] || o === null || p === null) return;
        var line = el("span", "item");
        var sw = el("i", "swatch");
        sw.style.background = colour(r);
        line.appendChild(sw);
        line.appendChild(document.createTextNode(shown(run.name) + ": observed " + fmt(o) + ", predicted " +
          fmt(p) + ", error " + fmt(100 * (p - o) / o, 3) + " %"));
        readoutNode.appendChild(line);
      });
    }
    return make(node, {
      height: 340, series: series, bands: bands,
      scales: { x: { time: false, distr: logx ? 3 : 1 }, y: { distr: logy ? 3 : 1 } },
      axes: [{ label: "step" }, { label: "loss (nats)", size: 70 }]
    }, cols, runOf, "law-" + i, readout);
  }

  function residChart(i, law) {
    var node = document.getElementById("chart-resid-" + i);
    var series = [{ label: "step" }];
    var runOf = [null];
    var tables = data.runs.map(function (run, r) {
      var c = law.curves[r];
      series.push({ label: shown(run.name) + " residual", stroke: colour(r), width: 0, paths: function () { return null; },
        points: { show: true, size: 3, fill: colour(r), stroke: colour(r) } });
      runOf.push(r);
      return { x: run.step, ys: [run.loss.map(function (o, j) { return 100 * (o - c.predicted[j]) / c.predicted[j]; })] };
    });
    return make(node, {
      height: 200, series: series,
      scales: { x: { time: false, distr: logx ? 3 : 1 } },
      axes: [{ label: "step" }, { label: "residual (%)", size: 70 }]
    }, align(tables), runOf, "law-" + i);
  }

  function lrChart(i) {
    var node = document.getElementById("chart-lr-" + i);
    var series = [{ label: "step" }];
    var runOf = [null];
    var tables = data.runs.map(function (run, r) {
      series.push({ label: shown(run.name) + " LR", stroke: colour(r), width: 1.4, dash: dash(r), spanGaps: true,
        points: { show: false } });
      runOf.push(r);
      // Step 0 has no place on a log axis.
      var x = [], y = [];
      run.lr_step.forEach(function (s, j) { if (!logx || s > 0) { x.push(s); y.push(run.lr[j]); } });
      return { x: x, ys: [y] };
    });
    return make(node, {
      height: 170, series: series,
      scales: { x: { time: false, distr: logx ? 3 : 1 } },
      axes: [{ label: "step" }, { label: "learning rate", size: 80,
        values: function (u, vals) { return vals.map(function (v) { return v === null ? "" : v === 0 ? "0" : v.toExponential(1); }); } }]
    }, align(tables), runOf, "law-" + i);
  }

  function forecastChart(k, f) {
    var node = document.getElementById("chart-forecast-" + k);
    var series = [{ label: "step" }];
    var runOf = [null];
    var bands = [];
    var tables = f.by_law.map(function (p, l) {
      var pred = p.predictions || [];
      var ys = [pred.map(function (q) { return q.loss_pred; })];
      series.push({ label: data.laws[l].law, stroke: colour(l), width: 1.6, points: { show: false } });
      runOf.push(null);
      if (pred.length && pred[0].lo !== undefined && pred[0].lo !== null) {
        ys.push(pred.map(function (q) { return q.lo; }), pred.map(function (q) { return q.hi; }));
        series.push({ label: "lo", stroke: "transparent", points: { show: false } },
          { label: "hi", stroke: "transparent", points: { show: false } });
        runOf.push(null, null);
        bands.push({ series: [series.length - 1, series.length - 2], fill: colour(l) + "30" });
      }
      return { x: pred.map(function (q) { return q.step; }), ys: ys };
    });
    make(node, {
      height: 260, series: series, bands: bands,
      scales: { x: { time: false, distr: logx ? 3 : 1 }, y: { distr: logy ? 3 : 1 } },
      axes: [{ label: "step" }, { label: "predicted loss (nats)", size: 70 }]
    }, align(tables), runOf, "forecast-" + k);
  }

  function planChart() {
    var node = document.getElementById("chart-plan");
    if (!node || !data.plan) return;
    var top = (data.plan.candidates || []).slice(0, 15);
    var x = top.map(function (_, j) { return j + 1; });
    var cols = [x, top.map(function (c) { return c.final_loss_pred; }),
      top.map(function (c) { return c.lo === undefined ? null : c.lo; }),
      top.map(function (c) { return c.hi === undefined ? null : c.hi; })];
    make(node, {
      height: 220,
      series: [{ label: "rank" },
        { label: "final loss", stroke: COLOURS[0], width: 0, paths: function () { return null; },
          points: { show: true, size: 7, fill: COLOURS[0] } },
        { label: "lo", stroke: "transparent", points: { show: false } },
        { label: "hi", stroke: "transparent", points: { show: false } }],
      bands: [{ series: [3, 2], fill: COLOURS[0] + "30" }],
      scales: { x: { time: false } },
      axes: [{ label: "rank" }, { label: "predicted final loss (nats)", size: 70 }]
    }, cols, [null, null, null, null], "plan");
  }

  function sizeCharts(i, z) {
    var lo = Math.min.apply(null, z.loss.concat(z.predicted));
    var hi = Math.max.apply(null, z.loss.concat(z.predicted));
    var parity = document.getElementById("chart-parity-" + i);
    make(parity, {
      height: 340,
      series: [{ label: "observed loss" },
        { label: "predicted", stroke: COLOURS[0], width: 0, paths: function () { return null; },
          points: { show: true, size: 5, fill: COLOURS[0] + "b0", stroke: COLOURS[0] } },
        { label: "predicted = observed", stroke: "#555", width: 1, spanGaps: true, points: { show: false } }],
      scales: { x: { time: false } },
      axes: [{ label: "observed loss (nats)" }, { label: "predicted loss (nats)", size: 70 }]
    }, align([{ x: z.loss, ys: [z.predicted] }, { x: [lo, hi], ys: [[lo, hi]] }]), [null, null, null], "parity-" + i);
    var compute = document.getElementById("chart-compute-" + i);
    var series = [{ label: "C" },
      { label: "observed", stroke: "#222", width: 0, paths: function () { return null; },
        points: { show: true, size: 6, fill: "#222222a0", stroke: "#222" } }];
    var tables = [{ x: z.c, ys: [z.loss] }];
    z.iso_n.forEach(function (iso, k) {
      series.push({ label: "N = " + fmt(iso.n, 3), stroke: colour(k + 1), width: 1.4, spanGaps: true, points: { show: false } });
      tables.push({ x: iso.c, ys: [iso.loss] });
    });
    if (z.frontier) {
      series.push({ label: "compute-optimal frontier", stroke: COLOURS[0], width: 2.4, dash: [6, 3], spanGaps: true,
        points: { show: false } });
      tables.push({ x: z.frontier.c, ys: [z.frontier.loss] });
    }
    // The observed losses set the loss axis; iso-N curves of small models leave it upwards.
    var obsLo = Math.min.apply(null, z.loss), obsHi = Math.max.apply(null, z.loss);
    var pad = 0.08 * (obsHi - obsLo);
    make(compute, {
      height: 360, series: series,
      scales: { x: { time: false, distr: 3 }, y: { range: [obsLo - pad, obsHi + pad] } },
      axes: [{ label: "compute C = 6ND (FLOP)", values: function (u, v) { return v.map(function (x) { return x === null ? "" : x.toExponential(0); }); } },
        { label: "loss (nats)", size: 70 }]
    }, align(tables), series.map(function () { return null; }), "compute-" + i);
    var isoNode = document.getElementById("chart-isoflop-" + i);
    if (isoNode && z.isoflop && z.isoflop.Ok) {
      var bs = z.isoflop.Ok.budgets;
      var s2 = [{ label: "N" }];
      var t2 = bs.map(function (b, k) {
        s2.push({ label: "C = " + fmt(b.compute, 3), stroke: colour(k), width: 1.2, spanGaps: true,
          points: { show: true, size: 5, fill: colour(k) } });
        return { x: b.n, ys: [b.loss] };
      });
      make(isoNode, {
        height: 320, series: s2,
        scales: { x: { time: false, distr: 3 } },
        axes: [{ label: "model size N (parameters)", values: function (u, v) { return v.map(function (x) { return x === null ? "" : x.toExponential(0); }); } },
          { label: "loss (nats)", size: 70 }]
      }, align(t2), s2.map(function () { return null; }), "isoflop-" + i);
    }
  }

  function build() {
    charts.forEach(function (c) { c.u.destroy(); });
    charts = [];
    data.laws.forEach(function (law, i) {
      if (!law.curves || !law.curves.length) return;
      lossChart(i, law);
      residChart(i, law);
      lrChart(i);
    });
    (data.forecasts || []).forEach(function (f, k) { forecastChart(k, f); });
    (data.sizes || []).forEach(function (z, i) { sizeCharts(i, z); });
    planChart();
  }

  function toggle(r) {
    hidden[r] = !hidden[r];
    charts.forEach(applyHidden);
    var b = document.querySelector('#legend button[data-run="' + r + '"]');
    if (b) b.setAttribute("aria-pressed", hidden[r] ? "false" : "true");
  }

  var legend = document.getElementById("legend");
  data.runs.forEach(function (run, r) {
    var b = el("button", "run");
    b.type = "button";
    b.setAttribute("data-run", String(r));
    b.setAttribute("aria-pressed", "true");
    var sw = el("i", "swatch");
    sw.style.background = colour(r);
    b.appendChild(sw);
    b.appendChild(document.createTextNode(shown(run.name) + " (" + run.role + ")"));
    b.addEventListener("click", function () { toggle(r); });
    legend.appendChild(b);
  });
  document.getElementById("controls").hidden = data.runs.length === 0;
  document.getElementById("logx").addEventListener("change", function (e) { logx = e.target.checked; build(); });
  document.getElementById("logy").addEventListener("change", function (e) { logy = e.target.checked; build(); });
  build();
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (c) { c.u.setSize({ width: width(c.node), height: c.u.height }); });
    }, 150);
  });
  // For tests and for readers who script the page.
  window.losscastReport = { data: data, charts: charts, hidden: hidden, toggle: toggle,
    charts_now: function () { return charts; } };
})();
