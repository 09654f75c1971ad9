// The demo page's wiring, in a file of its own: the page's
// Content-Security-Policy (default-src 'self') runs no inline script.
splitcast.run({
  experiment: null, // the default experiment
  headline: document.getElementById("headline"),
  button: document.getElementById("cta"),
  status: document.getElementById("status"),
});
