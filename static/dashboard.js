// splitcast dashboard: polls /results and /experiments and renders every
// experiment as its status with the lifecycle buttons (dashboard-lifecycle.js),
// tables, rate charts and lift-interval charts, then its results over time
// (dashboard-history.js). Data from the server reaches the DOM only as text
// (createElement + textContent), never as markup.
(function (global) {
  "use strict";

  var REFRESH_MS = 5000;
  var TOKEN_KEY = "splitcast.adminToken";
  var analysis = global.splitcastAnalysis;
  var formatP = analysis.formatP;
  var pText = analysis.pText;

  var form = document.getElementById("token-form");
  var tokenInput = document.getElementById("token");
  var tokenError = document.getElementById("token-error");
  var message = document.getElementById("message");
  var updated = document.getElementById("updated");
  var container = document.getElementById("experiments");
  var timer = null;

  // sessionStorage throws in some privacy modes; the page then asks each time.
  function storedToken() {
    try { return global.sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }
  function storeToken(token) {
    try {
      if (token) { global.sessionStorage.setItem(TOKEN_KEY, token); } else { global.sessionStorage.removeItem(TOKEN_KEY); }
    } catch (e) { /* kept for this page only */ }
    memoryToken = token;
  }
  var memoryToken = storedToken();

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function pad2(n) { return (n < 10 ? "0" : "") + n; }

  function pct(x) { return x === null || x === undefined ? "–" : (x * 100).toFixed(1) + "%"; }

  function signed(text, x) { return (x > 0 ? "+" : x < 0 ? "−" : "±") + text; }

  function chance(x) {
    if (x === null || x === undefined) { return "–"; }
    if (x > 0.999) { return "> 99.9%"; }
    if (x < 0.001) { return "< 0.1%"; }
    return pct(x);
  }

  function testName(test) {
    return test === "sequential" ? "sequential (always valid)"
      : test === "chi2_yates" ? "χ² (Yates)" : test === "fisher_exact" ? "Fisher exact" : "–";
  }

  function points(x) { return signed(Math.abs(x * 100).toFixed(1), x); }

  function lift(row) {
    if (row.lift_abs === null) { return "–"; }
    var text = signed(Math.abs(row.lift_abs * 100).toFixed(1) + " pts", row.lift_abs);
    if (row.lift_rel !== null) { text += " (" + signed(Math.abs(row.lift_rel * 100).toFixed(1) + "%", row.lift_rel) + ")"; }
    return text;
  }

  /**
   * "95%: −1.8 to +7.8 pts": the interval the verdict agrees with; until both
   * arms reach `min_sample_per_variant`, "waiting for N per variant" (with
   * one or two participants it spans hundreds of points and means nothing).
   */
  function liftInterval(experiment, row, control) {
    if (!row.lift_abs_ci) { return null; }
    if (!analysis.enough(experiment, row, control)) { return analysis.waitingText(experiment); }
    return "95%: " + points(row.lift_abs_ci[0]) + " to " + points(row.lift_abs_ci[1]) + " pts";
  }

  function headerRow(holm) {
    var tr = el("tr");
    var names = ["Variant", "Participants", "Conversions", "Rate (95% CI)", "Lift (95% interval)", "p-value"];
    if (holm) { names.push("Holm p"); }
    names.push("Test", "Bayesian chance to beat control", "Verdict");
    names.forEach(function (name) { var th = el("th", null, name); th.scope = "col"; tr.appendChild(th); });
    return tr;
  }

  function variantRow(experiment, row, control, holm) {
    var isControl = row.name === control.name;
    var tr = el("tr", isControl ? "control" : null);
    tr.dataset.variant = row.name;
    var name = el("th", "name", row.name);
    name.scope = "row";
    if (isControl) { name.appendChild(el("span", "tag", "control")); }
    tr.appendChild(name);
    tr.appendChild(el("td", "participants", row.participants));
    tr.appendChild(el("td", "conversions", row.conversions));
    var rate = el("td", "rate", pct(row.rate));
    if (row.ci_low !== null) { rate.appendChild(el("span", "interval", pct(row.ci_low) + " – " + pct(row.ci_high))); }
    tr.appendChild(rate);
    var liftCell = el("td", "lift", lift(row));
    var interval = liftInterval(experiment, row, control);
    if (interval) { liftCell.appendChild(el("span", "interval lift-ci", interval)); }
    tr.appendChild(liftCell);
    tr.appendChild(el("td", "p-value", row.p_value === null ? "–" : formatP(row.p_value)));
    if (holm) { tr.appendChild(el("td", "holm", row.p_value_holm === null ? "–" : formatP(row.p_value_holm))); }
    var testCell = el("td", "test", testName(row.test));
    // The classic p, for comparison: under peeking it is not a verdict.
    if (row.test === "sequential" && row.fixed_horizon) {
      testCell.appendChild(el("span", "interval fixed-p", "fixed-horizon " + pText(row.fixed_horizon.p_value)));
    }
    tr.appendChild(testCell);
    tr.appendChild(chanceCell(row));
    var v = isControl
      ? { kind: row.participants ? "control" : "no-data", text: row.participants ? "control" : "no data yet" }
      : analysis.verdict(experiment, row, control, holm);
    var cell = el("td", "verdict", v.text);
    cell.dataset.verdict = v.kind;
    tr.appendChild(cell);
    return tr;
  }

  function hasChance(row) { return row.chance_to_beat_control !== null && row.chance_to_beat_control !== undefined; }

  /**
   * The Bayesian chance, said to be what it is beside the number: read
   * alone, "98.5%" next to "no significant difference" looks like a verdict.
   */
  function chanceCell(row) {
    var cell = el("td", "chance", chance(row.chance_to_beat_control));
    if (hasChance(row)) { cell.appendChild(el("span", "interval chance-note", "from the current counts; not a verdict")); }
    return cell;
  }

  function goalBlock(experiment, goal) {
    var block = el("div", "goal");
    block.dataset.goal = goal.goal;
    block.appendChild(el("h3", null, "Goal: " + goal.goal));
    var control = goal.variants.filter(function (v) { return v.name === experiment.control; })[0] || goal.variants[0];
    // With several treatments, Holm keeps the chance of any false winner at 5%.
    var holm = goal.variants.length > 2;
    var table = el("table", "results");
    var thead = el("thead");
    thead.appendChild(headerRow(holm));
    table.appendChild(thead);
    var tbody = el("tbody");
    goal.variants.forEach(function (row) { tbody.appendChild(variantRow(experiment, row, control, holm)); });
    table.appendChild(tbody);
    var scroll = el("div", "table-scroll");
    scroll.appendChild(table);
    block.appendChild(scroll);
    if (goal.variants.some(hasChance)) {
      block.appendChild(el("p", "explain chance-explain",
        "The Bayesian chance to beat control is a probability computed from the current counts " +
        "(flat prior). Unlike the p-values and the verdict, it is not protected against peeking: " +
        "watching it and stopping once it looks high finds false winners. Act on the verdict."));
    }
    block.appendChild(global.splitcastChart.rateChart(goal.variants, control.name));
    block.appendChild(global.splitcastChart.liftChart(goal.variants, control, experiment));
    return block;
  }

  function experimentSection(experiment, generatedAt, states) {
    var section = el("section", "experiment");
    section.dataset.experiment = experiment.name;
    var title = el("h2", null);
    title.appendChild(el("span", "name", experiment.name));
    var status = el("span", "status", experiment.status);
    status.dataset.status = experiment.status;
    title.appendChild(status);
    section.appendChild(title);
    var state = states[experiment.name];
    if (state) {
      section.appendChild(global.splitcastLifecycle.block(state, { headers: authHeaders, onChanged: load }));
    }
    section.appendChild(analysis.analysisBlock(experiment, generatedAt));
    if (experiment.srm && experiment.srm.mismatch) {
      section.appendChild(el("p", "srm-warning",
        "Sample ratio mismatch (" + pText(experiment.srm.p_value) + "): participants are not split " +
        "the way the weights say, so these comparisons cannot be trusted. Look for bots, " +
        "redirects or caching that favour one variant."));
    }
    experiment.goals.forEach(function (goal) { section.appendChild(goalBlock(experiment, goal)); });
    section.appendChild(global.splitcastHistory.section(experiment, authHeaders()));
    return section;
  }

  function render(report, states) {
    var sections = report.experiments.map(function (e) { return experimentSection(e, report.generated_at, states); });
    container.replaceChildren.apply(container, sections);
    message.textContent = sections.length ? "" : "No experiments are configured.";
    var now = new Date();
    updated.textContent = "updated " + pad2(now.getHours()) + ":" + pad2(now.getMinutes()) + ":" + pad2(now.getSeconds());
  }

  function askForToken(refused) {
    storeToken(null);
    form.hidden = false;
    tokenError.textContent = refused ? "That token was refused; try again." : "";
    tokenInput.value = "";
    tokenInput.focus();
  }

  function authHeaders() {
    return memoryToken ? { Authorization: "Bearer " + memoryToken } : {};
  }

  /** GET /experiments by name; empty when it cannot be read (no buttons then). */
  function lifecycleStates() {
    return global.fetch("/experiments", { headers: authHeaders(), cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : { experiments: [] }; })
      .then(function (body) {
        var byName = {};
        body.experiments.forEach(function (state) { byName[state.name] = state; });
        return byName;
      })
      .catch(function () { return {}; });
  }

  function load() {
    global.clearTimeout(timer);
    var token = memoryToken;
    return global.fetch("/results", { headers: authHeaders(), cache: "no-store" })
      .then(function (response) {
        // Stop refreshing until a token is given: polling with a refused one is pointless.
        if (response.status === 401) { askForToken(Boolean(token)); return; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return Promise.all([response.json(), lifecycleStates()]).then(function (both) {
          form.hidden = true;
          render(both[0], both[1]);
          timer = global.setTimeout(load, REFRESH_MS);
        });
      })
      .catch(function (error) {
        message.textContent = "Could not load the results (" + error.message + "); retrying.";
        timer = global.setTimeout(load, REFRESH_MS);
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = tokenInput.value.trim();
    if (!token) { return; }
    storeToken(token);
    tokenError.textContent = "";
    load();
  });

  load();
})(window);
