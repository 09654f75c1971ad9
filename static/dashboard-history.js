// The dashboard's "over time" block of each experiment: fetches
// /results/history (the experiment's default goal) with the dashboard's
// token, keeps it for a minute (points come every history.interval_secs,
// an hour by default, so the 5-second refresh need not fetch them again)
// and draws it with splitcastHistoryChart.
(function (global) {
  "use strict";

  var STALE_MS = 60000;
  var charts = global.splitcastHistoryChart;
  // By experiment name: {history, fetchedAt, pending, block, error}.
  var cache = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function total(point) {
    return point.variants.reduce(function (sum, v) { return sum + v.participants; }, 0);
  }

  /**
   * New participants per UTC day, from the cumulative points: the increase in
   * participants (all variants) between the last point of a day and the last
   * point of the previous day that has one (so a day without points adds to
   * the next day that has some). The first day counts from its first point.
   */
  function perDay(points) {
    var days = [];
    points.forEach(function (p) {
      var day = p.at.slice(0, 10);
      var last = days[days.length - 1];
      if (last && last.day === day) {
        last.last = total(p);
      } else {
        days.push({ day: day, first: total(p), last: total(p) });
      }
    });
    return days.map(function (d, i) {
      var before = i === 0 ? d.first : days[i - 1].last;
      // Counts only grow; a store reset would otherwise show a negative day.
      return { day: d.day, participants: Math.max(0, d.last - before) };
    });
  }

  function draw(entry, experiment) {
    var block = entry.block;
    var body = el("div", "history-body");
    var history = entry.history;
    if (!history) {
      body.appendChild(el("p", "history-note", entry.error ? "Results over time could not be loaded (" + entry.error + ")." : "Loading results over time…"));
    } else if (!history.points.length) {
      body.appendChild(el("p", "history-note", "No points yet: the first is recorded at the next interval (every hour by default)."));
    } else {
      var control = experiment.control;
      var names = history.points[0].variants.map(function (v) { return v.name; });
      var colour = charts.colours(names, control);
      body.appendChild(el("h4", null, "Cumulative conversion rate"));
      body.appendChild(charts.rateChart(history, control));
      body.appendChild(el("h4", null, "Lift over " + control + " with its 95% interval"));
      names.forEach(function (name, i) {
        if (name !== control) {
          body.appendChild(charts.liftChart(history, i, control, colour[name], experiment.min_sample_per_variant));
        }
      });
      body.appendChild(el("h4", null, "New participants per day (UTC)"));
      body.appendChild(charts.daysChart(perDay(history.points)));
    }
    var old = block.querySelector(".history-body");
    if (old) { block.replaceChild(body, old); } else { block.appendChild(body); }
  }

  function fetchHistory(entry, experiment, headers) {
    entry.pending = true;
    var url = "/results/history?experiment=" + encodeURIComponent(experiment.name);
    return global.fetch(url, { headers: headers, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (history) {
        entry.history = history;
        entry.error = null;
        entry.fetchedAt = Date.now();
      })
      .catch(function (error) {
        entry.error = error.message;
        // Tried again at a later refresh, not in a loop.
        entry.fetchedAt = Date.now();
      })
      .then(function () {
        entry.pending = false;
        // The block drawn last is the one on the page (each refresh replaces it).
        draw(entry, experiment);
      });
  }

  /**
   * The block of `experiment` (a row of /results): drawn from what is known
   * now, and redrawn when a fetch (with `headers`) brings newer points.
   */
  function section(experiment, headers) {
    var entry = cache[experiment.name] || (cache[experiment.name] = { history: null, fetchedAt: 0, pending: false, error: null });
    var block = el("div", "history");
    block.dataset.history = experiment.name;
    var goal = experiment.goals.length ? experiment.goals[0].goal : "";
    block.appendChild(el("h3", null, "Over time (goal: " + goal + ")"));
    entry.block = block;
    draw(entry, experiment);
    if (!entry.pending && Date.now() - entry.fetchedAt > STALE_MS) { fetchHistory(entry, experiment, headers); }
    return block;
  }

  global.splitcastHistory = { section: section, perDay: perDay };
})(window);
