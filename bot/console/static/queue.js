// The queue refreshes its table every few seconds: it fetches the table alone
// (data-refresh-url, the same filters) and puts it in place. It waits while the page is
// hidden or while focus is inside the table (so a button being tabbed to is not
// replaced), and stops once the session has ended (the request lands on the login page).
"use strict";

(function () {
  var region = document.querySelector("[data-refresh-url]");
  if (!region) {
    return;
  }
  var url = region.getAttribute("data-refresh-url");
  var every = 1000 * (parseInt(region.getAttribute("data-refresh-seconds"), 10) || 10);
  var state = document.getElementById("queue-refresh-state");
  var timer = null;

  function say(text) {
    if (state) {
      state.textContent = text;
      state.hidden = !text;
    }
  }

  function busy() {
    var active = document.activeElement;
    return document.hidden || (active && active !== document.body && region.contains(active));
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, every);
  }

  function refresh() {
    if (busy()) {
      schedule();
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected) {
          say("Your session has ended: reload the page to log in again.");
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        if (!busy()) {
          region.innerHTML = html;
        }
        say("");
        schedule();
      })
      .catch(function () {
        say("The queue could not be updated; trying again.");
        schedule();
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      refresh();
    }
  });
  schedule();
})();
