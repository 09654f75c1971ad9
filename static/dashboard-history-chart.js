// The dashboard's charts over time, in plain SVG (no library: the page works
// offline): the cumulative conversion rate per variant (one line each, with
// a legend), each treatment's lift over the control with its 95% interval as
// a band around a dashed zero line, and participants per day as bars.
// Every text from the server is set with textContent or setAttribute, never
// parsed as markup.
(function (global) {
  "use strict";

  var NS = "http://www.w3.org/2000/svg";
  var WIDTH = 640;
  var LEFT = 58;
  var RIGHT = 16;
  var TOP = 10;
  var BOTTOM = 26;
  var HEIGHT = 200;
  var CONTROL_COLOUR = "#7a7a7a";
  var COLOURS = ["#2a5db0", "#d9822b", "#2e8b57", "#b03a7a", "#6a51a3", "#c0392b", "#1f8a99"];

  function node(tag, attrs, text) {
    var n = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { n.textContent = String(text); }
    return n;
  }

  /** The colour of each variant: grey for the control, the palette in order for the rest. */
  function colours(names, controlName) {
    var map = {};
    var next = 0;
    names.forEach(function (name) {
      map[name] = name === controlName ? CONTROL_COLOUR : COLOURS[next++ % COLOURS.length];
    });
    return map;
  }

  /** A round step (1, 2 or 5 times a power of ten) and the top it gives over `top`, in at most five ticks. */
  function niceAxis(top) {
    var raw = (top > 0 ? top : 1) / 5;
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * power; }).filter(function (s) { return s >= raw; })[0];
    return { step: step, max: Math.ceil(top / step - 1e-9) * step || step };
  }

  function pad2(n) { return (n < 10 ? "0" : "") + n; }

  /** A UTC time label with as much precision as the span of the chart needs. */
  function timeLabel(ms, span) {
    var d = new Date(ms);
    var date = d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate());
    var clock = pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes());
    if (span >= 2 * 86400000) { return date; }
    if (span >= 600000) { return date.slice(5) + " " + clock; }
    return clock + ":" + pad2(d.getUTCSeconds());
  }

  function frame(className, title, height) {
    var svg = node("svg", { "class": "chart history-chart " + className, viewBox: "0 0 " + WIDTH + " " + height, role: "img" });
    svg.appendChild(node("title", {}, title));
    return svg;
  }

  /** Horizontal grid lines and labels for values `from`..`to` every `step`. */
  function yGrid(svg, y, from, to, step, label, bottom) {
    for (var v = from; v <= to + step / 1000; v += step) {
      var value = Math.abs(v) < step / 1000 ? 0 : v;
      svg.appendChild(node("line", { "class": value === 0 && from < 0 ? "zero" : "grid", x1: LEFT, x2: WIDTH - RIGHT, y1: y(value), y2: y(value) }));
      svg.appendChild(node("text", { "class": "tick", x: LEFT - 6, y: y(value) + 4, "text-anchor": "end" }, label(value)));
    }
    svg.appendChild(node("line", { "class": "axis", x1: LEFT, x2: LEFT, y1: TOP, y2: bottom }));
  }

  /** The time scale of `points` and its first, middle and last labels along the bottom. */
  function timeAxis(svg, points, bottom) {
    var times = points.map(function (p) { return Date.parse(p.at); });
    var t0 = times[0];
    var span = times[times.length - 1] - t0;
    var plot = WIDTH - LEFT - RIGHT;
    var x = function (t) { return span > 0 ? LEFT + ((t - t0) / span) * plot : LEFT + plot / 2; };
    var marks = span > 0 ? [t0, t0 + span / 2, t0 + span] : [t0];
    marks.forEach(function (t, i) {
      var anchor = marks.length === 1 ? "middle" : ["start", "middle", "end"][i];
      svg.appendChild(node("text", { "class": "tick", x: x(t), y: bottom + 18, "text-anchor": anchor }, timeLabel(t, span)));
    });
    return { x: x, times: times };
  }

  function pct(x) { return Number((x * 100).toPrecision(3)) + "%"; }

  function pts(x) { return (x > 0 ? "+" : x < 0 ? "−" : "") + Number(Math.abs(x * 100).toPrecision(3)) + " pts"; }

  /** One `<polyline>` through the points where `value` is defined. */
  function line(className, xs, values, y, attrs) {
    var coords = [];
    values.forEach(function (v, i) { if (v !== null && v !== undefined) { coords.push(xs[i].toFixed(1) + "," + y(v).toFixed(1)); } });
    var all = { "class": className, points: coords.join(" ") };
    Object.keys(attrs).forEach(function (k) { all[k] = attrs[k]; });
    return node("polyline", all);
  }

  /**
   * `<svg class="history-rate-chart">`: one line per variant through its
   * cumulative rate at every point (none before its first participant).
   */
  function rateChart(history, controlName) {
    var points = history.points;
    var names = points[0].variants.map(function (v) { return v.name; });
    var colour = colours(names, controlName);
    var top = 0;
    points.forEach(function (p) { p.variants.forEach(function (v) { top = Math.max(top, v.rate || 0); }); });
    var scale = niceAxis(Math.min(1, top * 1.1) || 0.01);
    var legendRow = 20;
    var bottom = HEIGHT - BOTTOM;
    var svg = frame("history-rate-chart", "Cumulative conversion rate per variant over time", HEIGHT + legendRow);
    var y = function (r) { return bottom - (r / scale.max) * (bottom - TOP); };
    yGrid(svg, y, 0, scale.max, scale.step, pct, bottom);
    var time = timeAxis(svg, points, bottom);
    var xs = time.times.map(time.x);
    names.forEach(function (name, i) {
      var rates = points.map(function (p) { return p.variants[i] ? p.variants[i].rate : null; });
      var polyline = line("rate-line", xs, rates, y, { stroke: colour[name] });
      polyline.setAttribute("data-variant", name);
      svg.appendChild(polyline);
    });
    var legend = node("g", { "class": "legend" });
    var at = LEFT;
    names.forEach(function (name) {
      var label = name === controlName ? name + " (control)" : name;
      var item = node("g", { "class": "legend-item" });
      item.setAttribute("data-variant", name);
      item.appendChild(node("rect", { x: at, y: HEIGHT + 6, width: 14, height: 4, fill: colour[name] }));
      item.appendChild(node("text", { x: at + 18, y: HEIGHT + 12 }, label));
      legend.appendChild(item);
      at += 30 + label.length * 7;
    });
    svg.appendChild(legend);
    return svg;
  }

  /**
   * `<svg class="history-lift-chart">` of treatment `index`: its absolute lift
   * over the control as a line and its 95% interval (the one the verdict
   * agrees with) as a band, broken where the interval is undefined.
   */
  function liftChart(history, index, controlName, colour, minSample) {
    var points = history.points;
    var name = points[0].variants[index].name;
    var need = minSample || 0;
    // A point's interval is drawn once both arms had `min_sample_per_variant`
    // participants then: earlier ones span hundreds of points.
    var rows = points.map(function (p) {
      var v = p.variants[index];
      var control = p.variants.filter(function (c) { return c.name === controlName; })[0];
      var early = !v || !control || v.participants < need || control.participants < need;
      return early ? null : v;
    });
    var reach = rows.reduce(function (m, v) {
      return v && v.lift_abs_ci ? Math.max(m, Math.abs(v.lift_abs_ci[0]), Math.abs(v.lift_abs_ci[1])) : m;
    }, 0);
    // A difference of two rates lies within ±100 points.
    var scale = niceAxis(Math.min(1, reach * 1.05) || 0.01);
    var bottom = HEIGHT - BOTTOM;
    var svg = frame("history-lift-chart", "Lift of " + name + " over " + controlName + " with its 95% interval, over time", HEIGHT);
    svg.setAttribute("data-variant", name);
    var y = function (d) { return TOP + ((scale.max - d) / (2 * scale.max)) * (bottom - TOP); };
    yGrid(svg, y, -scale.max, scale.max, scale.step, function (v) { return v === 0 ? "0 pts" : pts(v); }, bottom);
    var time = timeAxis(svg, points, bottom);
    var xs = time.times.map(time.x);
    // One band per run of points with an interval: a gap means "undefined then".
    var run = [];
    var flush = function () {
      if (run.length) {
        var upper = run.map(function (i) { return xs[i].toFixed(1) + "," + y(Math.min(1, rows[i].lift_abs_ci[1])).toFixed(1); });
        var lower = run.slice().reverse().map(function (i) { return xs[i].toFixed(1) + "," + y(Math.max(-1, rows[i].lift_abs_ci[0])).toFixed(1); });
        svg.appendChild(node("polygon", { "class": "lift-band", points: upper.concat(lower).join(" "), fill: colour }));
      }
      run = [];
    };
    rows.forEach(function (v, i) { if (v && v.lift_abs_ci) { run.push(i); } else { flush(); } });
    flush();
    var lifts = rows.map(function (v) { return v ? v.lift_abs : null; });
    svg.appendChild(line("lift-line", xs, lifts, y, { stroke: colour }));
    svg.appendChild(node("text", { "class": "label", x: WIDTH - RIGHT - 4, y: TOP + 12, "text-anchor": "end" }, name + " − " + controlName));
    if (rows.every(function (v) { return v === null; })) {
      svg.appendChild(node("text", { "class": "label waiting", x: LEFT + 8, y: TOP + 12 }, "waiting for " + need + " per variant"));
    }
    return svg;
  }

  /** `<svg class="history-days-chart">`: one bar per UTC day of `days` ({day, participants}). */
  function daysChart(days) {
    var top = days.reduce(function (m, d) { return Math.max(m, d.participants); }, 0);
    // Whole numbers of participants: at least five ticks of one.
    var scale = niceAxis(Math.max(top, 5));
    var bottom = HEIGHT - BOTTOM;
    var svg = frame("history-days-chart", "New participants per UTC day", HEIGHT);
    var y = function (n) { return bottom - (n / scale.max) * (bottom - TOP); };
    yGrid(svg, y, 0, scale.max, scale.step, function (n) { return String(Math.round(n)); }, bottom);
    var plot = WIDTH - LEFT - RIGHT;
    var slot = plot / days.length;
    var width = Math.max(1, Math.min(48, slot * 0.7));
    var labelled = days.length <= 14;
    days.forEach(function (d, i) {
      var mid = LEFT + slot * (i + 0.5);
      var bar = node("rect", { "class": "day-bar", x: mid - width / 2, y: y(d.participants), width: width, height: Math.max(0, bottom - y(d.participants)) });
      bar.setAttribute("data-day", d.day);
      bar.appendChild(node("title", {}, d.day + ": " + d.participants + " new participants"));
      svg.appendChild(bar);
      if (labelled) {
        svg.appendChild(node("text", { "class": "value", x: mid, y: y(d.participants) - 4, "text-anchor": "middle" }, d.participants));
      }
      if (labelled || i === 0 || i === days.length - 1) {
        svg.appendChild(node("text", { "class": "tick", x: mid, y: bottom + 18, "text-anchor": "middle" }, d.day.slice(5)));
      }
    });
    return svg;
  }

  global.splitcastHistoryChart = { rateChart: rateChart, liftChart: liftChart, daysChart: daysChart, colours: colours };
})(window);
