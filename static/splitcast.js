// splitcast browser client: loads the visitor's variant, applies it, posts
// a page view once shown and a conversion on click. On any error or timeout
// the page keeps its built-in (control) content.
(function (global) {
  "use strict";

  var TIMEOUT_MS = 1500;

  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
      promise.then(function (v) { clearTimeout(timer); resolve(v); },
                   function (e) { clearTimeout(timer); reject(e); });
    });
  }

  function query(experiment) {
    return experiment ? "?experiment=" + encodeURIComponent(experiment) : "";
  }

  function post(path) {
    return withTimeout(fetch(path, { method: "POST", credentials: "include" }), TIMEOUT_MS);
  }

  // What the server said about counting: `X-Splitcast-Counted` and, when
  // false, `X-Splitcast-Uncounted-Reason` (bot, preview, paused, origin, …).
  function uncountedReason(response) {
    if (response.headers.get("X-Splitcast-Counted") !== "false") { return null; }
    return response.headers.get("X-Splitcast-Uncounted-Reason") || "unknown";
  }

  function notCounted(what, reason) {
    return what + " was not counted (reason: " + reason + ").";
  }

  function run(options) {
    var base = options.base || "";
    var q = query(options.experiment);
    var converted = false;
    // A logged-in user: the id and the proof the site's backend rendered
    // into the page. The session remembers the user, so only this request
    // carries them.
    var headers = {};
    if (options.userId) {
      headers["X-User-Id"] = options.userId;
      if (options.userIdSignature) { headers["X-User-Id-Signature"] = options.userIdSignature; }
    }
    var ready = withTimeout(fetch(base + "/get_content" + q, { credentials: "include", headers: headers }), TIMEOUT_MS)
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        var variant = response.headers.get("X-Variant");
        var reason = uncountedReason(response);
        if (reason && options.status) { options.status.textContent = notCounted("This visit", reason); }
        return response.json().then(function (content) {
          if (typeof content.headline === "string" && options.headline) {
            options.headline.textContent = content.headline;
          }
          if (typeof content.button_color === "string" && options.button) {
            options.button.style.backgroundColor = content.button_color;
          }
          if (options.button) { options.button.dataset.variant = variant || ""; }
          return post(base + "/track_view" + q);
        });
      })
      .then(function () { return true; })
      .catch(function (error) {
        if (options.status) { options.status.textContent = ""; }
        if (global.console) { console.warn("splitcast: keeping the built-in content:", error.message); }
        return false;
      });

    if (options.button) {
      options.button.addEventListener("click", function () {
        ready.then(function (ok) {
          if (!ok || converted) { return; }
          converted = true;
          return post(base + "/track_conversion" + q).then(function (response) {
            if (options.status) {
              var reason = response.ok ? uncountedReason(response) : null;
              options.status.textContent = !response.ok ? ""
                : reason ? notCounted("Your click", reason)
                : "Thanks! Your click was counted.";
            }
          }).catch(function () { converted = false; });
        });
      });
    }
    return ready;
  }

  global.splitcast = { run: run };
})(window);
