/*
 * The bank's chat widget. Embed with one script tag:
 *
 *   <script src="https://…/widget/widget.js" data-server="https://assistant.example"
 *           data-lang="en" data-mode="launcher" data-identity-token="…" defer></script>
 *
 * Options (data-* attributes, or window.BankChatConfig = {server, lang, mode,
 * identityToken, title} set before the script, which wins over the attributes):
 *   server         the assistant's URL (socket.io at <server>/socket.io); default this page's origin
 *   lang           en | es | fr; default <html lang>, then the browser's language, then en
 *   mode           launcher (a round button that opens a panel) | inline (renders into #bankchat)
 *   identityToken  the signed token of the logged-in customer, if any
 *   title          the panel's heading
 *
 * Loads widget.css beside itself and, when window.io is missing, the socket.io client
 * from ../vendor/socket.io.min.js. The only global is window.BankChat: open(), close(),
 * state().
 */
(function () {
  "use strict";
  if (window.BankChat) return;

  var STRINGS = {
    en: {
      title: "Chat with us",
      open: "Open chat",
      openUnread: "Open chat – new message",
      close: "Close chat",
      log: "Conversation",
      label: "Your message",
      placeholder: "Type your message…",
      send: "Send",
      you: "You:",
      assistant: "Assistant:",
      staff: "Bank staff",
      replies: "Suggested replies",
      typing: "The assistant is typing…",
      connecting: "Connecting…",
      connected: "Connected",
      reconnecting: "Offline – reconnecting. Your messages will be sent when we are back.",
      failed: "The chat is not available right now. Please try again later.",
      notSent: "Not sent yet",
      error: "This message could not be sent.",
      tooLong: "This message is too long. Please shorten it and send it again.",
      tooMany: "Too many messages. Please wait a moment and send it again.",
      tooManyWait: "Too many messages. Please wait {n} seconds and send it again.",
      notice: "Never share card numbers, PINs or passwords here — we will never ask for them.",
    },
    es: {
      title: "Chatee con nosotros",
      open: "Abrir el chat",
      openUnread: "Abrir el chat – mensaje nuevo",
      close: "Cerrar el chat",
      log: "Conversación",
      label: "Su mensaje",
      placeholder: "Escriba su mensaje…",
      send: "Enviar",
      you: "Usted:",
      assistant: "Asistente:",
      staff: "Personal del banco",
      replies: "Respuestas sugeridas",
      typing: "El asistente está escribiendo…",
      connecting: "Conectando…",
      connected: "Conectado",
      reconnecting: "Sin conexión – reconectando. Sus mensajes se enviarán cuando vuelva la conexión.",
      failed: "El chat no está disponible en este momento. Inténtelo de nuevo más tarde.",
      notSent: "Aún no enviado",
      error: "No se ha podido enviar este mensaje.",
      tooLong: "Este mensaje es demasiado largo. Acórtelo y vuelva a enviarlo.",
      tooMany: "Demasiados mensajes. Espere un momento y vuelva a enviarlo.",
      tooManyWait: "Demasiados mensajes. Espere {n} segundos y vuelva a enviarlo.",
      notice:
        "Nunca comparta aquí números de tarjeta, PIN ni contraseñas: nunca se los pediremos.",
    },
    fr: {
      title: "Discutez avec nous",
      open: "Ouvrir la discussion",
      openUnread: "Ouvrir la discussion – nouveau message",
      close: "Fermer la discussion",
      log: "Conversation",
      label: "Votre message",
      placeholder: "Écrivez votre message…",
      send: "Envoyer",
      you: "Vous :",
      assistant: "Assistant :",
      staff: "Conseiller de la banque",
      replies: "Réponses suggérées",
      typing: "L’assistant est en train d’écrire…",
      connecting: "Connexion…",
      connected: "Connecté",
      reconnecting: "Hors ligne – reconnexion. Vos messages seront envoyés dès le retour de la connexion.",
      failed: "La discussion n’est pas disponible pour le moment. Veuillez réessayer plus tard.",
      notSent: "Pas encore envoyé",
      error: "Ce message n’a pas pu être envoyé.",
      tooLong: "Ce message est trop long. Raccourcissez-le et renvoyez-le.",
      tooMany: "Trop de messages. Patientez un instant puis renvoyez-le.",
      tooManyWait: "Trop de messages. Patientez {n} secondes puis renvoyez-le.",
      notice:
        "Ne communiquez jamais ici de numéros de carte, de codes PIN ni de mots de passe — nous ne vous les demanderons jamais.",
    },
  };
  var SESSION_KEY = "bankchat.session";
  var OPEN_KEY = "bankchat.open"; // sessionStorage: the panel stays open across a reload
  var OUTBOX_KEY = "bankchat.outbox";
  var PHONE = /(\+\d[\d ]{7,16}\d|\b18001 \d[\d ]{8,14}\d)/g;
  var STATUS_DELAY_MS = 1200; // a short blip offline is not announced
  var TYPING_TIMEOUT_MS = 30000;
  var HISTORY_WAIT_MS = 2000; // send the outbox even if no history follows a confirm

  // ---- configuration ------------------------------------------------------------
  var script =
    document.currentScript ||
    Array.prototype.find.call(document.querySelectorAll("script[src]"), function (s) {
      return /\/widget\.js(?:[?#]|$)/.test(s.src);
    });
  var data = (script && script.dataset) || {};
  var given = window.BankChatConfig || {};
  function option(name) {
    var v = given[name] != null ? given[name] : data[name];
    return typeof v === "string" && v.trim() ? v.trim() : null;
  }
  var scriptUrl = script ? script.src : location.href;
  var config = {
    server: option("server") || location.origin,
    mode: option("mode") === "inline" ? "inline" : "launcher",
    identityToken: option("identityToken"),
    title: option("title"),
  };
  function supported(tag) {
    var code = String(tag || "").toLowerCase().slice(0, 2);
    return STRINGS[code] ? code : null;
  }
  var lang =
    supported(option("lang")) ||
    supported(document.documentElement.lang) ||
    supported(navigator.language) ||
    "en";
  function t(key) {
    return STRINGS[lang][key];
  }

  // ---- storage (falls back to memory when the browser refuses) ---------------------
  var memory = {};
  var store = {
    get: function (key) {
      try {
        return window.localStorage.getItem(key);
      } catch (e) {
        return key in memory ? memory[key] : null;
      }
    },
    set: function (key, value) {
      try {
        if (value == null) window.localStorage.removeItem(key);
        else window.localStorage.setItem(key, value);
      } catch (e) {
        memory[key] = value;
      }
    },
  };
  function loadOutbox() {
    try {
      var items = JSON.parse(store.get(OUTBOX_KEY) || "[]");
      return Array.isArray(items)
        ? items.filter(function (m) {
            return m && typeof m.client_id === "string" && typeof m.text === "string";
          }).map(function (m) {
            var session = typeof m.session === "string" ? m.session : null;
            return { client_id: m.client_id, text: m.text, shown: String(m.shown || m.text), session: session };
          })
        : [];
    } catch (e) {
      return [];
    }
  }
  function saveOutbox() {
    store.set(
      OUTBOX_KEY,
      outbox.length
        ? JSON.stringify(
            outbox.map(function (m) {
              return { client_id: m.client_id, text: m.text, shown: m.shown, session: m.session };
            })
          )
        : null
    );
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map
      .call(b, function (x) {
        return (x + 256).toString(16).slice(1);
      })
      .join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // ---- state ----------------------------------------------------------------------
  var socket = null;
  var ioLoading = null;
  var connecting = false;
  var sessionId = store.get(SESSION_KEY);
  var outbox = loadOutbox();
  var inflight = {}; // client_id -> true, for the current connection
  var ready = false; // confirmed and history shown: the outbox may be sent
  var status = "idle";
  var statusTimer = null;
  var typingTimer = null;
  var historyTimer = null;
  var markedReady = false;

  function el(tag, cls, attrs) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    return node;
  }
  // ---- the widget, built once the page's body exists ----------------------------------
  function start() {
    if (window.BankChat || document.querySelector(".bankchat-root")) return;
    var inline = config.mode === "inline" && document.getElementById("bankchat");
    var root = el("div", "bankchat-root bankchat-offline", { "data-mode": inline ? "inline" : "launcher" });
    root.hidden = true; // until the stylesheet has loaded
    var launcher = null;
    if (!inline) {
      launcher = el("button", "bankchat-launcher", {
        type: "button",
        "aria-expanded": "false",
        "aria-controls": "bankchat-panel",
      });
      var svgNs = "http://www.w3.org/2000/svg";
      var icon = document.createElementNS(svgNs, "svg");
      icon.setAttribute("viewBox", "0 0 24 24");
      icon.setAttribute("aria-hidden", "true");
      icon.setAttribute("focusable", "false");
      var path = document.createElementNS(svgNs, "path");
      path.setAttribute(
        "d",
        "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z"
      );
      icon.appendChild(path);
      launcher.appendChild(icon);
      root.appendChild(launcher);
    }
    var panel = el("div", "bankchat-panel", {
      id: "bankchat-panel",
      role: inline ? "region" : "dialog",
      "aria-labelledby": "bankchat-title",
    });
    if (!inline) panel.hidden = true;
    var header = el("div", "bankchat-header");
    var title = el("h2", "bankchat-title", { id: "bankchat-title" });
    header.appendChild(title);
    var closeButton = null;
    if (!inline) {
      closeButton = el("button", "bankchat-close", { type: "button" });
      closeButton.textContent = "×";
      header.appendChild(closeButton);
    }
    var notice = el("p", "bankchat-notice");
    var log = el("div", "bankchat-log", { role: "log", "aria-live": "polite", tabindex: "0" });
    var typing = el("div", "bankchat-typing", { "aria-live": "polite" });
    var statusLine = el("div", "bankchat-status", { role: "status" });
    var form = el("form", "bankchat-form", { autocomplete: "off" });
    var label = el("label", "bankchat-sr", { for: "bankchat-input" });
    var input = el("input", "bankchat-input", {
      id: "bankchat-input",
      type: "text",
      name: "message",
      enterkeyhint: "send",
    });
    var sendButton = el("button", "bankchat-send", { type: "submit" });
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(sendButton);
    [header, notice, log, typing, statusLine, form].forEach(function (n) {
      panel.appendChild(n);
    });
    root.appendChild(panel);

    function applyStrings() {
      root.setAttribute("lang", lang);
      title.textContent = config.title || t("title");
      notice.textContent = t("notice");
      log.setAttribute("aria-label", t("log"));
      label.textContent = t("label");
      input.placeholder = t("placeholder");
      sendButton.textContent = t("send");
      if (closeButton) closeButton.setAttribute("aria-label", t("close"));
      if (launcher) updateLauncher();
      Array.prototype.forEach.call(log.querySelectorAll(".bankchat-replies"), function (box) {
        box.setAttribute("aria-label", t("replies"));
      });
      if (!typing.hidden) typing.lastChild.textContent = t("typing");
      showStatus();
      markPending();
    }
    function setLanguage(tag) {
      var code = supported(tag);
      if (code && code !== lang) {
        lang = code;
        applyStrings();
      }
    }
    function updateLauncher() {
      var open = !panel.hidden;
      launcher.setAttribute("aria-expanded", String(open));
      var unread = launcher.classList.contains("bankchat-unread");
      launcher.setAttribute("aria-label", open ? t("close") : unread ? t("openUnread") : t("open"));
    }

    // ---- messages ---------------------------------------------------------------------
    function appendText(parent, text, links) {
      text.split(/\n[ \t]*\n+/).forEach(function (para) {
        if (!para.trim()) return;
        var p = el("p");
        var at = 0;
        if (links) {
          para.replace(PHONE, function (match, _g, index) {
            p.appendChild(document.createTextNode(para.slice(at, index)));
            var a = el("a", null, { href: "tel:" + match.replace(/[^\d+]/g, "") });
            a.textContent = match;
            p.appendChild(a);
            at = index + match.length;
            return match;
          });
        }
        p.appendChild(document.createTextNode(para.slice(at)));
        parent.appendChild(p);
      });
    }
    function scrollDown() {
      log.scrollTop = log.scrollHeight;
    }
    function addMessage(sender, text, author) {
      var user = sender === "user";
      var staff = !user && author === "staff";
      var item = el("div", "bankchat-msg " + (user ? "bankchat-user" : "bankchat-bot"));
      var who = el("span", staff ? "bankchat-author" : "bankchat-sr");
      who.textContent = user ? t("you") : staff ? t("staff") : t("assistant");
      item.appendChild(who);
      if (staff) item.classList.add("bankchat-staff");
      item.bankchatText = String(text || "");
      appendText(item, item.bankchatText, !user);
      log.appendChild(item);
      scrollDown();
      return item;
    }
    function removeReplies() {
      Array.prototype.forEach.call(log.querySelectorAll(".bankchat-replies"), function (box) {
        box.remove();
      });
    }
    function addReplies(replies) {
      var valid = (Array.isArray(replies) ? replies : []).filter(function (r) {
        return r && typeof r.title === "string" && typeof r.payload === "string";
      });
      if (!valid.length) return;
      var box = el("div", "bankchat-replies", { role: "group", "aria-label": t("replies") });
      valid.forEach(function (r) {
        var button = el("button", null, { type: "button" });
        button.textContent = r.title;
        button.addEventListener("click", function () {
          send(r.payload, r.title);
          input.focus();
        });
        box.appendChild(button);
      });
      log.appendChild(box);
      scrollDown();
    }
    function addPending(item) {
      item.node = addMessage("user", item.shown || item.text);
      item.node.classList.add("bankchat-pending");
      item.note = el("span", "bankchat-note");
      item.node.appendChild(item.note);
      markPending();
    }
    function markPending() {
      var offline = status !== "connected";
      outbox.forEach(function (item) {
        if (item.note) item.note.textContent = offline ? t("notSent") : "";
      });
    }
    function shownBefore(item) {
      return Array.prototype.some.call(log.querySelectorAll(".bankchat-user"), function (node) {
        var sent = node !== item.node && !node.classList.contains("bankchat-pending");
        return sent && node.bankchatText === item.shown;
      });
    }
    function settle(item) {
      outbox = outbox.filter(function (m) {
        return m !== item;
      });
      saveOutbox();
      if (item.node) {
        item.node.classList.remove("bankchat-pending");
        if (item.note) item.note.remove();
      }
    }
    function refuse(item, answer) {
      settle(item);
      var reason = String(answer.error || "");
      var text = /long|size|length/i.test(reason)
        ? t("tooLong")
        : /many|rate|limit|slow/i.test(reason)
        ? answer.retry_after > 0
          ? t("tooManyWait").replace("{n}", String(Math.ceil(answer.retry_after)))
          : t("tooMany")
        : t("error");
      if (item.node) {
        item.node.classList.add("bankchat-failed");
        var note = el("span", "bankchat-note");
        note.textContent = text;
        item.node.appendChild(note);
      }
    }
    function renderHistory(history) {
      log.setAttribute("aria-busy", "true");
      log.textContent = "";
      var messages = Array.isArray(history.messages) ? history.messages : [];
      messages.forEach(function (m, i) {
        if (!m || typeof m.text !== "string") return;
        addMessage(m.sender === "user" ? "user" : "bot", m.text, m.author);
        if (i === messages.length - 1 && m.sender !== "user") addReplies(m.quick_replies);
      });
      outbox.forEach(addPending);
      log.removeAttribute("aria-busy");
      scrollDown();
      if (history.language) setLanguage(history.language);
    }

    // ---- connection -------------------------------------------------------------------
    function setStatus(next) {
      if (next === status) return;
      status = next;
      root.classList.toggle("bankchat-offline", next !== "connected");
      markPending();
      clearTimeout(statusTimer);
      if (next === "reconnecting") statusTimer = setTimeout(showStatus, STATUS_DELAY_MS);
      else showStatus();
    }
    function showStatus() {
      var key = status === "idle" ? "connecting" : status;
      if (statusLine.getAttribute("data-state") === key && statusLine.textContent === t(key)) return;
      statusLine.setAttribute("data-state", key);
      statusLine.textContent = t(key);
    }
    function showTyping(on) {
      clearTimeout(typingTimer);
      typing.textContent = "";
      typing.hidden = !on;
      if (!on) return;
      var dots = el("span", "bankchat-dots", { "aria-hidden": "true" });
      for (var i = 0; i < 3; i++) dots.appendChild(el("span"));
      typing.appendChild(dots);
      typing.appendChild(document.createTextNode(t("typing")));
      typingTimer = setTimeout(function () {
        showTyping(false);
      }, TYPING_TIMEOUT_MS);
    }
    function loadIo() {
      if (typeof window.io === "function") return Promise.resolve(window.io);
      if (!ioLoading) {
        ioLoading = new Promise(function (resolve, reject) {
          var tag = el("script", null, { src: new URL("../vendor/socket.io.min.js", scriptUrl).href });
          tag.async = true;
          tag.onload = function () {
            var io = window.io;
            try {
              delete window.io; // keep the host page's globals as they were
            } catch (e) {
              /* a non-configurable global stays */
            }
            if (typeof io === "function") resolve(io);
            else reject(new Error("socket.io client did not load"));
          };
          tag.onerror = function () {
            ioLoading = null;
            reject(new Error("socket.io client did not load"));
          };
          document.head.appendChild(tag);
        });
      }
      return ioLoading;
    }
    function connect() {
      if (socket) {
        if (!socket.active) socket.connect(); // refused or closed by the server: try again
        return;
      }
      if (connecting) return;
      connecting = true;
      setStatus("connecting");
      loadIo().then(
        function (io) {
          connecting = false;
          socket = io(config.server, {
            path: "/socket.io",
            transports: ["websocket", "polling"],
            auth: { token: config.identityToken || null },
            reconnection: true,
            reconnectionDelay: 1000,
            reconnectionDelayMax: 10000,
            randomizationFactor: 0.5,
          });
          socket.on("connect", onConnect);
          socket.on("disconnect", onDisconnect);
          socket.on("connect_error", function () {
            setStatus(socket.active ? "reconnecting" : "failed");
          });
          socket.on("session_confirm", onConfirm);
          socket.on("session_history", onHistory);
          socket.on("bot_uttered", onBotUttered);
          socket.on("bot_typing", function (d) {
            showTyping(!!(d && d.typing));
          });
        },
        function () {
          connecting = false;
          setStatus("failed");
        }
      );
    }
    function onConnect() {
      ready = false;
      inflight = {};
      setStatus("connected");
      socket.emit("session_request", { session_id: sessionId || null, language: lang });
    }
    function onDisconnect() {
      ready = false;
      inflight = {};
      clearTimeout(historyTimer);
      showTyping(false);
      setStatus(socket.active ? "reconnecting" : "failed");
    }
    function onConfirm(d) {
      var id = typeof d === "string" ? d : d && d.session_id;
      if (typeof id !== "string" || !id) return;
      sessionId = id;
      store.set(SESSION_KEY, id);
      clearTimeout(historyTimer);
      historyTimer = setTimeout(flush, HISTORY_WAIT_MS);
    }
    function onHistory(d) {
      if (!d || typeof d !== "object") return;
      outbox.forEach(function (m) {
        m.node = m.note = null;
      });
      renderHistory(d);
      clearTimeout(historyTimer);
      flush();
    }
    function onBotUttered(d) {
      if (!d || typeof d.text !== "string") return;
      if (!markedReady && window.performance && performance.mark) {
        markedReady = true; // connected and the first message shown (benchmarks read it)
        performance.mark("bankchat-ready");
      }
      showTyping(false);
      if (d.language) setLanguage(d.language);
      addMessage("bot", d.text, d.author);
      addReplies(d.quick_replies);
      if (launcher && panel.hidden) {
        launcher.classList.add("bankchat-unread");
        updateLauncher();
      }
    }
    function flush() {
      if (!socket || !socket.connected || !sessionId) return;
      var kept = outbox.filter(function (m) {
        return !m.session || m.session === sessionId;
      });
      if (kept.length !== outbox.length) {
        outbox.forEach(function (m) {
          if (kept.indexOf(m) < 0 && m.node) m.node.remove();
        });
        outbox = kept;
        saveOutbox();
      }
      outbox.forEach(function (m) {
        m.session = sessionId;
      });
      ready = true;
      outbox.forEach(emit);
    }
    function emit(item) {
      if (!ready || !socket.connected || inflight[item.client_id]) return;
      inflight[item.client_id] = true;
      var body = {
        message: item.text,
        session_id: sessionId,
        client_id: item.client_id,
        metadata: { language: lang },
      };
      socket.emit("user_uttered", body, function (answer) {
        if (!answer || typeof answer !== "object") return; // kept: sent again after a reconnect
        if (!answer.ok) return refuse(item, answer);
        // Handled before (sent again after a reconnect): if the history shows it, drop the copy.
        var copy = answer.duplicate && item.node && shownBefore(item);
        settle(item);
        if (copy) item.node.remove();
      });
    }
    function send(text, shown) {
      text = String(text || "").trim();
      if (!text) return;
      removeReplies();
      // The conversation it was typed in: never sent into another one (another customer
      // logged in on this browser meanwhile).
      var item = { client_id: uuid(), text: text, shown: String(shown || text), session: sessionId || null };
      outbox.push(item);
      saveOutbox();
      addPending(item);
      connect();
      emit(item);
    }

    // ---- opening and closing ------------------------------------------------------------
    var phone = window.matchMedia ? window.matchMedia("(max-width: 600px)") : null;
    function fitViewport() {
      var vv = window.visualViewport;
      var fill = vv && phone && phone.matches && launcher && !panel.hidden;
      panel.style.height = fill ? vv.height + "px" : "";
      panel.style.top = fill ? vv.offsetTop + "px" : "";
    }
    function remember(isOpen) {
      try {
        window.sessionStorage.setItem(OPEN_KEY, isOpen ? "1" : "0");
      } catch (e) {
        /* not remembered: the panel starts closed */
      }
    }
    function wasOpen() {
      try {
        return window.sessionStorage.getItem(OPEN_KEY) === "1";
      } catch (e) {
        return false;
      }
    }
    function open(options) {
      connect();
      if (launcher && panel.hidden) {
        remember(true);
        document.documentElement.classList.add("bankchat-lock");
        panel.hidden = false;
        root.classList.add("bankchat-open");
        launcher.classList.remove("bankchat-unread");
        updateLauncher();
        fitViewport();
        scrollDown();
      }
      if (!options || options.focus !== false) input.focus();
    }
    function close() {
      if (!launcher || panel.hidden) return;
      panel.hidden = true;
      remember(false);
      document.documentElement.classList.remove("bankchat-lock");
      root.classList.remove("bankchat-open");
      updateLauncher();
      fitViewport();
      launcher.focus();
    }

    if (launcher) {
      launcher.addEventListener("click", function () {
        if (panel.hidden) open();
        else close();
      });
      closeButton.addEventListener("click", close);
      root.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape" && !panel.hidden) {
          ev.preventDefault();
          close();
        }
      });
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = input.value;
      if (!text.trim()) return;
      input.value = "";
      send(text);
      input.focus();
    });
    if (window.visualViewport) {
      window.visualViewport.addEventListener("resize", fitViewport);
      window.visualViewport.addEventListener("scroll", fitViewport);
    }

    showTyping(false);
    applyStrings();
    var stylesheet = el("link", null, { rel: "stylesheet", href: new URL("widget.css", scriptUrl).href });
    stylesheet.onload = stylesheet.onerror = function () {
      root.hidden = false;
    };
    document.head.appendChild(stylesheet);
    (inline || document.body).appendChild(root);
    outbox.forEach(addPending);
    // A conversation in progress (or messages waiting) reconnects at once, so replies and
    // messages from staff arrive; otherwise the first opening connects.
    if (inline || sessionId || outbox.length) connect();
    if (launcher && wasOpen()) open({ focus: false });

    window.BankChat = Object.freeze({
      open: function () {
        open();
      },
      close: close,
      state: function () {
        return {
          status: status,
          connected: !!(socket && socket.connected),
          ready: ready,
          sessionId: sessionId,
          lang: lang,
          open: inline ? true : !panel.hidden,
          outbox: outbox.length,
        };
      },
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
