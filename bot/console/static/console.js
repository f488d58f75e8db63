// The staff console's own script (no inline script: the CSP forbids it).
//  - <form data-confirm="Question?">: asks before submitting.
//  - window.consoleFetch(url, options): fetch() with the CSRF token header and same-origin
//    credentials, for pages that post without a form.
"use strict";

(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  window.consoleFetch = function (url, options) {
    var opts = Object.assign({ credentials: "same-origin" }, options || {});
    var headers = new Headers(opts.headers || {});
    headers.set("X-CSRF-Token", csrfToken());
    opts.headers = headers;
    return fetch(url, opts);
  };

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
