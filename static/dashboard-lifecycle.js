// The dashboard's lifecycle block of each experiment: its effective status,
// who set it and when (the configuration file, or a run-time change through
// the admin API), and Pause / Resume / Conclude buttons. A button never acts
// at once: it opens a confirmation step (with the winner to choose and an
// optional reason), and only Confirm posts to /experiments/{name}/status.
// The block node is kept across the 5-second refreshes, and left untouched
// while its confirmation is open, so that a refresh never closes it.
(function (global) {
  "use strict";

  // By experiment name: {block, open, notice}.
  var blocks = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function when(rfc3339) {
    var at = new Date(rfc3339);
    return isNaN(at.getTime()) ? rfc3339 : at.toLocaleString();
  }

  function describe(state) {
    var text = state.status === "concluded" && state.winner
      ? "concluded: " + state.winner + " ships"
      : state.status;
    if (state.source === "override") {
      text += " — set at run time " + when(state.changed_at);
      if (state.reason) { text += " (" + state.reason + ")"; }
    } else {
      text += " — as configured";
    }
    return text;
  }

  function button(action, label, onClick) {
    var b = el("button", "lifecycle-button", label);
    b.type = "button";
    b.dataset.action = action;
    b.addEventListener("click", onClick);
    return b;
  }

  /** What each action asks of the server, and how the confirmation says it. */
  var ACTIONS = {
    pause: { status: "paused", label: "Pause", question: "Pause: everyone sees the control, nothing is counted." },
    resume: { status: "running", label: "Resume", question: "Resume: visitors are assigned and counted again." },
    conclude: { status: "concluded", label: "Conclude…", question: "Conclude: everyone sees the winner, nothing is counted." },
    reset: { method: "DELETE", label: "Back to config", question: "Return to the status in the configuration file." }
  };

  function actionsFor(state) {
    var list = [];
    if (state.status !== "running") { list.push("resume"); }
    if (state.status !== "paused") { list.push("pause"); }
    list.push("conclude");
    if (state.source === "override") { list.push("reset"); }
    return list;
  }

  function send(state, action, winner, reason, options) {
    var spec = ACTIONS[action];
    var url = "/experiments/" + encodeURIComponent(state.name) + "/status";
    var init = { method: spec.method || "POST", headers: options.headers(), cache: "no-store" };
    if (!spec.method) {
      var body = { status: spec.status };
      if (spec.status === "concluded") { body.winner = winner; }
      if (reason) { body.reason = reason; }
      init.headers = Object.assign({ "Content-Type": "application/json" }, init.headers);
      init.body = JSON.stringify(body);
    }
    return global.fetch(url, init).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) {
          throw new Error((answer.error && answer.error.message) || ("HTTP " + response.status));
        }
        return answer;
      });
    });
  }

  function confirmation(state, action, entry, options) {
    var spec = ACTIONS[action];
    var panel = el("div", "lifecycle-confirm");
    panel.setAttribute("role", "dialog");
    panel.appendChild(el("p", "question", spec.question));
    var select = null;
    if (action === "conclude") {
      var label = el("label", null, "Winner ");
      select = el("select");
      select.name = "winner";
      state.variants.forEach(function (v) {
        var option = el("option", null, v.name);
        option.value = v.name;
        select.appendChild(option);
      });
      label.appendChild(select);
      panel.appendChild(label);
    }
    var reason = null;
    if (!spec.method) {
      var reasonLabel = el("label", null, " Reason ");
      reason = el("input");
      reason.name = "reason";
      reason.maxLength = 500;
      reason.placeholder = "optional";
      reasonLabel.appendChild(reason);
      panel.appendChild(reasonLabel);
    }
    var error = el("p", "lifecycle-error");
    error.setAttribute("role", "alert");
    var confirm = button("confirm", "Confirm", function () {
      confirm.disabled = true;
      send(state, action, select && select.value, reason && reason.value.trim(), options)
        .then(function (answer) {
          entry.open = false;
          entry.notice = answer.changed ? "Done: " + describe(answer) : "No change: " + describe(answer);
          draw(answer, entry, options);
          options.onChanged();
        })
        .catch(function (failure) {
          confirm.disabled = false;
          error.textContent = "Not changed: " + failure.message;
        });
    });
    var cancel = button("cancel", "Cancel", function () {
      entry.open = false;
      draw(state, entry, options);
    });
    panel.appendChild(confirm);
    panel.appendChild(cancel);
    panel.appendChild(error);
    return panel;
  }

  function draw(state, entry, options) {
    var block = entry.block;
    var status = el("p", "lifecycle-state", describe(state));
    status.dataset.status = state.status;
    status.dataset.source = state.source;
    var buttons = el("div", "lifecycle-buttons");
    actionsFor(state).forEach(function (action) {
      buttons.appendChild(button(action, ACTIONS[action].label, function () {
        entry.open = true;
        entry.notice = "";
        block.replaceChildren(status, buttons, confirmation(state, action, entry, options));
      }));
    });
    var notice = el("p", "lifecycle-notice", entry.notice || "");
    notice.setAttribute("aria-live", "polite");
    block.replaceChildren(status, buttons, notice);
  }

  /**
   * The lifecycle block of `state` (an entry of GET /experiments).
   * options.headers(): the admin token headers; options.onChanged(): reload.
   */
  function block(state, options) {
    var entry = blocks[state.name];
    if (!entry) {
      entry = blocks[state.name] = { block: el("div", "lifecycle"), open: false, notice: "" };
      entry.block.dataset.lifecycle = state.name;
    }
    if (!entry.open) { draw(state, entry, options); }
    return entry.block;
  }

  global.splitcastLifecycle = { block: block, describe: describe };
})(window);
