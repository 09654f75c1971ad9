// splitcast dashboard: what the analysis of an experiment lets a reader
// conclude, in plain words. The verdict itself comes from /results (the same
// decision the chat notifications use); this file only words it and, for a
// fixed-horizon plan, estimates the time left from the pace so far.
(function (global) {
  "use strict";

  function thousands(n) { return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  /** "0.058", "0.003", "0.41", "< 0.001": two significant digits is what a reader can use. */
  function formatP(p) {
    if (p < 0.001) { return "< 0.001"; }
    return String(p < 0.1 ? Number(p.toPrecision(2)) : Number(p.toFixed(2)));
  }

  function pText(p) { var f = formatP(p); return f.charAt(0) === "<" ? "p " + f : "p = " + f; }

  /** The plain-words verdict of a non-control row and its kind (for styling and tests). */
  function verdict(experiment, row, control, holm) {
    if (!row.participants || !control.participants || row.verdict === null) {
      return { kind: "no-data", text: "no data yet" };
    }
    var sequential = experiment.analysis === "sequential";
    var p = holm ? row.p_value_holm : row.p_value;
    var shown = p === null ? "" : " (" + (holm ? "Holm " : "") + pText(p) + ")";
    var valid = sequential ? " — valid however often you look" : " at the planned sample";
    switch (row.verdict) {
      case "better":
        return { kind: "beats", text: row.name + " beats " + control.name + valid + shown };
      case "worse":
        return { kind: "worse", text: row.name + " is worse than " + control.name + valid + shown };
      case "inconclusive":
        return {
          kind: "not-significant",
          text: (sequential ? "no significant difference yet" : "no significant difference at the planned sample") + shown
        };
      default:
        return {
          kind: "waiting",
          text: sequential
            ? "waiting for more participants" + shown
            : "waiting for the planned sample (" + Math.floor((row.progress || 0) * 100) + "%)"
        };
    }
  }

  /** "about 3 h", "about 40 min", "about 2 days". */
  function duration(hours) {
    if (hours >= 48) { return "about " + Math.round(hours / 24) + " days"; }
    if (hours >= 2) { return "about " + Math.round(hours) + " h"; }
    return "about " + Math.max(1, Math.round(hours * 60)) + " min";
  }

  /**
   * Fixed plan: progress of the smaller arm and the expected time left at the
   * pace seen since the first participant. `null` before anyone is counted.
   */
  function pace(experiment, generatedAt) {
    var variants = experiment.goals.length ? experiment.goals[0].variants : [];
    if (!variants.length || experiment.sample_size === null) { return null; }
    var counts = variants.map(function (v) { return v.participants; });
    var smallest = Math.min.apply(null, counts);
    var total = counts.reduce(function (a, b) { return a + b; }, 0);
    var progress = Math.min(1, smallest / experiment.sample_size);
    var result = { progress: progress, smallest: smallest, perHour: null, left: null };
    var hours = experiment.started_at === null ? 0 : (generatedAt - experiment.started_at) / 3600;
    if (total > 0 && hours > 0) {
      result.perHour = total / hours;
      // The smaller arm sets the pace: it fills at its own share of the traffic.
      var armPerHour = smallest / hours;
      if (progress < 1 && armPerHour > 0) { result.left = (experiment.sample_size - smallest) / armPerHour; }
    }
    return result;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  /** The block under an experiment's title: its analysis, progress and how to read it. */
  function analysisBlock(experiment, generatedAt) {
    var block = el("div", "analysis");
    block.dataset.analysis = experiment.analysis;
    if (experiment.analysis === "sequential") {
      block.appendChild(el("p", "analysis-name", "Sequential analysis (N* = " + thousands(experiment.sequential_tuning) + ")"));
      block.appendChild(el("p", "explain",
        "Look as often as you like: the p-values and intervals below stay valid at every look, " +
        "so a verdict here (and in chat) is safe to act on. Early on the intervals are wide; " +
        "they narrow as participants arrive."));
      return block;
    }
    block.appendChild(el("p", "analysis-name",
      "Fixed-horizon analysis: judged once each variant has " + thousands(experiment.sample_size) + " participants"));
    var state = pace(experiment, generatedAt);
    if (state) {
      var bar = el("div", "progress-bar");
      bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      bar.setAttribute("aria-valuenow", String(Math.floor(state.progress * 100)));
      var fill = el("div", "progress-fill");
      fill.style.width = (state.progress * 100).toFixed(1) + "%";
      bar.appendChild(fill);
      block.appendChild(bar);
      var words = Math.floor(state.progress * 100) + "% of the planned " + thousands(experiment.sample_size) + " per variant";
      if (state.progress >= 1) {
        words += " · plan reached: the verdict below is final";
      } else if (state.perHour !== null) {
        words += " · " + thousands(state.perHour) + " participants per hour so far";
        if (state.left !== null) { words += " · " + duration(state.left) + " left"; }
      }
      block.appendChild(el("p", "progress-text", words));
    }
    block.appendChild(el("p", "explain",
      "The verdict waits for the planned sample: reading it earlier, and stopping when it looks good, " +
      "makes false winners far more likely."));
    return block;
  }

  /** The participants each arm needs before an interval is worth showing. */
  function minSample(experiment) { return experiment.min_sample_per_variant || 0; }

  /** Whether both `row` and the control have reached `min_sample_per_variant`. */
  function enough(experiment, row, control) {
    var need = minSample(experiment);
    return row.participants >= need && control.participants >= need;
  }

  function waitingText(experiment) { return "waiting for " + minSample(experiment) + " per variant"; }

  global.splitcastAnalysis = {
    verdict: verdict, analysisBlock: analysisBlock, formatP: formatP, pText: pText,
    enough: enough, minSample: minSample, waitingText: waitingText
  };
})(window);
