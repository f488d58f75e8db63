// The demo help page. A bank's site would write its logged-in customer's signed identity
// token into the page; the demo takes it from the address instead:
//   /#identity=<token>           chat as that customer
//   /#lang=es                    the widget in Spanish (or fr, en)
(function () {
  "use strict";
  var params = new URLSearchParams(location.hash.slice(1));
  var config = {};
  if (params.get("identity")) config.identityToken = params.get("identity");
  if (params.get("lang")) config.lang = params.get("lang");
  window.BankChatConfig = config;

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("chat-now");
    if (button) {
      button.addEventListener("click", function () {
        if (window.BankChat) window.BankChat.open();
      });
    }
  });
})();
