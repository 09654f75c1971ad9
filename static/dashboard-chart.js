// The dashboard's chart: each variant's conversion rate as a bar with its 95%
// interval as an error bar, in plain SVG (no library: the page works offline).
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
    var svg = node("svg", { "class": "chart", viewBox: "0 0 " + WIDTH + " " + height, role: "img" });
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

  global.splitcastChart = { rateChart: rateChart };
})(window);
