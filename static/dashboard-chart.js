// The dashboard's charts, in plain SVG (no library: the page works offline):
// each variant's conversion rate as a bar with its 95% interval as an error
// bar, and each treatment's lift over the control with its 95% interval.
(function (global) {
  "use strict";

  var NS = "http://www.w3.org/2000/svg";
  var WIDTH = 640;
  var LABEL = 90;     // room for variant names on the left
  var RIGHT = 70;     // room for the value label past the interval
  var ROW = 34;
  var TOP = 8;
  var AXIS = 26;
  var STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5];

  function node(tag, attrs, text) {
    var n = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { n.textContent = String(text); }
    return n;
  }

  function pct(x) { return (x * 100).toFixed(1) + "%"; }

  /** A round axis maximum and tick step covering `top` in at most five ticks. */
  function axis(top) {
    var step = STEPS.filter(function (s) { return top / s <= 5; })[0] || 0.5;
    return { step: step, max: Math.min(1, Math.max(step, Math.ceil(top / step) * step)) };
  }

  /** An `<svg class="chart">` of `variants` (rows of /results), control drawn apart. */
  function rateChart(variants, controlName) {
    var top = variants.reduce(function (m, v) { return Math.max(m, v.ci_high || v.rate || 0); }, 0);
    var scale = axis(top * 1.05 || 0.01);
    var plot = WIDTH - LABEL - RIGHT;
    var x = function (rate) { return LABEL + (rate / scale.max) * plot; };
    var height = TOP + variants.length * ROW + AXIS;
    var svg = node("svg", { "class": "chart rate-chart", viewBox: "0 0 " + WIDTH + " " + height, role: "img" });
    svg.appendChild(node("title", {}, "Conversion rate per variant with its 95% interval"));

    for (var k = 0; k * scale.step <= scale.max + 1e-9; k++) {
      var t = k * scale.step;
      svg.appendChild(node("line", { "class": "grid", x1: x(t), x2: x(t), y1: TOP, y2: height - AXIS }));
      svg.appendChild(node("text", { "class": "tick", x: x(t), y: height - 8, "text-anchor": "middle" }, pct(t)));
    }

    variants.forEach(function (v, i) {
      var mid = TOP + i * ROW + ROW / 2;
      var g = node("g", { "class": v.name === controlName ? "bar control" : "bar" });
      g.setAttribute("data-variant", v.name);
      g.appendChild(node("text", { "class": "label", x: LABEL - 8, y: mid + 4, "text-anchor": "end" }, v.name));
      if (v.rate === null) {
        g.appendChild(node("text", { "class": "value", x: LABEL + 4, y: mid + 4 }, "no data yet"));
      } else {
        g.appendChild(node("rect", { x: LABEL, y: mid - 8, width: Math.max(1, x(v.rate) - LABEL), height: 16, rx: 2 }));
        g.appendChild(node("line", { "class": "ci", x1: x(v.ci_low), x2: x(v.ci_high), y1: mid, y2: mid }));
        g.appendChild(node("line", { "class": "ci", x1: x(v.ci_low), x2: x(v.ci_low), y1: mid - 6, y2: mid + 6 }));
        g.appendChild(node("line", { "class": "ci", x1: x(v.ci_high), x2: x(v.ci_high), y1: mid - 6, y2: mid + 6 }));
        g.appendChild(node("text", { "class": "value", x: x(v.ci_high) + 6, y: mid + 4 }, pct(v.rate)));
      }
      svg.appendChild(g);
    });
    return svg;
  }

  function points(x) { return (x > 0 ? "+" : x < 0 ? "−" : "") + Math.abs(x * 100).toFixed(1) + " pts"; }

  /**
   * An `<svg class="chart lift-chart">`: per treatment, the interval of its
   * absolute lift (`lift_abs_ci`, the one the verdict agrees with) around a
   * dashed zero line, and the lift itself as a dot; "waiting for N per
   * variant" instead while either arm is below `min_sample_per_variant`.
   */
  function liftChart(variants, control, experiment) {
    var controlName = control.name;
    var analysis = global.splitcastAnalysis;
    var rows = variants.filter(function (v) { return v.name !== controlName; });
    var drawn = function (v) { return v.lift_abs_ci && analysis.enough(experiment, v, control); };
    var reach = rows.reduce(function (m, v) {
      return drawn(v) ? Math.max(m, Math.abs(v.lift_abs_ci[0]), Math.abs(v.lift_abs_ci[1])) : m;
    }, 0);
    // A difference of two rates lies within ±100 points, whatever an
    // interval's formula says.
    var scale = axis(Math.min(1, reach * 1.05) || 0.01);
    var plot = WIDTH - LABEL - RIGHT;
    var mid0 = LABEL + plot / 2;
    var x = function (d) { return mid0 + (d / scale.max) * (plot / 2); };
    var height = TOP + rows.length * ROW + AXIS;
    var svg = node("svg", { "class": "chart lift-chart", viewBox: "0 0 " + WIDTH + " " + height, role: "img" });
    svg.appendChild(node("title", {}, "Lift over " + controlName + " per variant with its 95% interval"));
    var perSide = Math.floor(scale.max / scale.step + 1e-9);
    // Both sides share the width of the rate chart: label every other tick when crowded.
    var every = perSide > 3 ? 2 : 1;
    for (var k = -perSide; k <= perSide; k++) {
      var t = k * scale.step;
      svg.appendChild(node("line", { "class": k === 0 ? "zero" : "grid", x1: x(t), x2: x(t), y1: TOP, y2: height - AXIS }));
      if (k % every === 0) {
        var label = k === 0 ? "0 pts" : (t > 0 ? "+" : "−") + Number(Math.abs(t * 100).toPrecision(3));
        svg.appendChild(node("text", { "class": "tick", x: x(t), y: height - 8, "text-anchor": "middle" }, label));
      }
    }
    rows.forEach(function (v, i) {
      var mid = TOP + i * ROW + ROW / 2;
      var g = node("g", { "class": "lift-row" });
      g.setAttribute("data-variant", v.name);
      g.appendChild(node("text", { "class": "label", x: LABEL - 8, y: mid + 4, "text-anchor": "end" }, v.name));
      if (!v.lift_abs_ci) {
        g.appendChild(node("text", { "class": "value", x: LABEL + 4, y: mid + 4 }, "no interval yet"));
      } else if (!drawn(v)) {
        g.appendChild(node("text", { "class": "value waiting", x: LABEL + 4, y: mid + 4 }, analysis.waitingText(experiment)));
      } else {
        var low = Math.max(-1, v.lift_abs_ci[0]), high = Math.min(1, v.lift_abs_ci[1]);
        g.appendChild(node("line", { "class": "lift-ci", x1: x(low), x2: x(high), y1: mid, y2: mid }));
        g.appendChild(node("line", { "class": "lift-ci", x1: x(low), x2: x(low), y1: mid - 6, y2: mid + 6 }));
        g.appendChild(node("line", { "class": "lift-ci", x1: x(high), x2: x(high), y1: mid - 6, y2: mid + 6 }));
        g.appendChild(node("circle", { "class": "lift", cx: x(v.lift_abs), cy: mid, r: 4 }));
        g.appendChild(node("text", { "class": "value", x: Math.min(WIDTH - 4, x(high) + 6), y: mid + 4 }, points(v.lift_abs)));
      }
      svg.appendChild(g);
    });
    return svg;
  }

  global.splitcastChart = { rateChart: rateChart, liftChart: liftChart };
})(window);
