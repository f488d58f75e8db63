// The conversation page (/handoffs/REF):
//  - the transcript follows the conversation live (server-sent events from
//    /handoffs/REF/events: new lines, fresh suggestions, the handoff's status, Rasa's);
//  - the reply form posts without leaving the page (Ctrl+Enter sends);
//  - a suggested reply goes into the reply box, at the cursor, for editing: never sent by itself.
"use strict";

(function () {
  var transcript = document.getElementById("transcript");
  if (!transcript) {
    return;
  }
  var scroller = transcript.parentElement; // the log region that scrolls
  var liveState = document.getElementById("live-state");
  var form = document.getElementById("reply-form");
  var box = document.getElementById("reply-text");
  var replyStatus = document.getElementById("reply-status");
  var suggestionList = document.getElementById("suggestions");

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function scrollDown() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function tell(text, withReload) {
    liveState.textContent = text;
    if (withReload) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Reload";
      button.addEventListener("click", function () {
        window.location.reload();
      });
      liveState.appendChild(document.createTextNode(" "));
      liveState.appendChild(button);
    }
  }

  function listen() {
    var url = transcript.getAttribute("data-events");
    var cursor = transcript.getAttribute("data-cursor");
    if (cursor !== "") {
      url += "?after=" + encodeURIComponent(cursor);
    }
    var source = new EventSource(url);
    source.addEventListener("items", function (event) {
      var data = JSON.parse(event.data);
      var follow = nearBottom();
      transcript.insertAdjacentHTML("beforeend", data.html);
      transcript.setAttribute("data-cursor", String(data.count));
      if (follow) {
        scrollDown();
      }
    });
    source.addEventListener("reset", function (event) {
      var data = JSON.parse(event.data);
      transcript.innerHTML = data.html;
      transcript.setAttribute("data-cursor", String(data.count));
      scrollDown();
    });
    source.addEventListener("suggestions", function (event) {
      if (suggestionList) {
        suggestionList.innerHTML = JSON.parse(event.data).html;
      }
    });
    source.addEventListener("state", function (event) {
      var data = JSON.parse(event.data);
      var assignee = data.assignee || "";
      if (data.status === transcript.getAttribute("data-status") &&
          assignee === transcript.getAttribute("data-assignee")) {
        return;
      }
      var who = assignee ? ", claimed by " + assignee : "";
      tell("This handoff is now " + data.status + who + ".", true);
    });
    source.addEventListener("rasa", function (event) {
      var data = JSON.parse(event.data);
      tell(data.ok ? "" : data.message, false);
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        tell("Live updates stopped. Reload the page (you may need to log in again).", true);
      }
    });
  }

  function insertSuggestion(text) {
    var start = box.selectionStart;
    var end = box.selectionEnd;
    var before = box.value.slice(0, start);
    var after = box.value.slice(end);
    var gap = before && !/\s$/.test(before) ? " " : "";
    box.value = before + gap + text + after;
    var at = (before + gap + text).length;
    box.focus();
    box.setSelectionRange(at, at);
  }

  function send(event) {
    event.preventDefault();
    if (!box.value.trim()) {
      replyStatus.textContent = "Write a reply first.";
      return;
    }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    replyStatus.textContent = "Sending…";
    window.consoleFetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        if (data.ok) {
          box.value = "";
          replyStatus.textContent = data.delivered
            ? "Sent."
            : "In the conversation, but not delivered now: " + data.reason;
        } else {
          replyStatus.textContent = "Not sent: " + data.error;
        }
      })
      .catch(function () {
        replyStatus.textContent = "Not sent. Reload the page and try again.";
      })
      .then(function () {
        button.disabled = false;
        box.focus();
      });
  }

  scrollDown();
  listen();
  if (form && box) {
    form.addEventListener("submit", send);
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
  if (suggestionList && box) {
    suggestionList.addEventListener("click", function (event) {
      var button = event.target.closest("button.suggestion");
      if (button) {
        insertSuggestion(button.getAttribute("data-text"));
      }
    });
  }
})();
