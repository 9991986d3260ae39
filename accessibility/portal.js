// The portal's accessibility behaviour: the toolbar, keyboard shortcuts, read-aloud, the
// reading guide and caption bar, one announcement per message, and focus that comes back to
// the question box after each answer. Gradio renders and re-renders the page, so everything
// here works by event delegation on the document and by watching the DOM; the markup it reads
// is written in Python (accessibility/toolbar.py, portal/render.py).
(function () {
  "use strict";
  var root = document.documentElement;
  var boot = window.portalBoot;
  if (!boot) return;
  var KEY = boot.key;
  // The first value of each is the default. boot.js has applied the display settings already;
  // the speech settings need no early start.
  var DISPLAY = Object.keys(boot.choices);
  var CHOICES = Object.assign({}, boot.choices, {
    sound: ["off", "on"],
    readmode: ["point", "continuous"],
    speed: ["normal", "slow", "fast"]
  });
  var RATES = { slow: 0.75, normal: 1, fast: 1.35 };

  function load() {
    try {
      return JSON.parse(localStorage.getItem(KEY) || "{}") || {};
    } catch (error) {
      return {};
    }
  }
  var saved = load();

  function get(name) {
    if (DISPLAY.indexOf(name) >= 0) return root.getAttribute("data-" + name);
    var value = saved[name];
    return CHOICES[name].indexOf(value) >= 0 ? value : CHOICES[name][0];
  }

  function set(name, value) {
    if (!CHOICES[name] || CHOICES[name].indexOf(value) < 0) return;
    saved[name] = value;
    try {
      localStorage.setItem(KEY, JSON.stringify(saved));
    } catch (error) { /* settings then last for this page only */ }
    if (DISPLAY.indexOf(name) >= 0) root.setAttribute("data-" + name, value);
    if (name === "sound" && value === "off") stop();
    sync();
  }

  function reset() {
    saved = {};
    try {
      localStorage.removeItem(KEY);
    } catch (error) { /* nothing stored */ }
    DISPLAY.forEach(function (name) {
      root.setAttribute("data-" + name, CHOICES[name][0]);
    });
    stop();
    sync();
  }

  // ---- announcements ------------------------------------------------------------------------
  function announce(text) {
    var region = document.getElementById("a11y-announcer");
    if (!region || !text) return;
    var line = document.createElement("p");
    line.textContent = text;
    region.appendChild(line);
    while (region.childNodes.length > 6) region.removeChild(region.firstChild);
  }


  // ---- speech -------------------------------------------------------------------------------
  var speech = window.speechSynthesis;

  function voiceFor(lang) {
    if (!speech || !lang) return null;
    var wanted = lang.toLowerCase().replace("_", "-");
    var primary = wanted.split("-")[0];
    var voices = speech.getVoices();
    var exact = null;
    var near = null;
    for (var i = 0; i < voices.length; i++) {
      var voice = (voices[i].lang || "").toLowerCase().replace("_", "-");
      if (voice === wanted) exact = exact || voices[i];
      else if (voice.split("-")[0] === primary || (wanted === "zh-hk" && voice === "yue-hk"))
        near = near || voices[i];
    }
    return exact || near;
  }

  function languageOf(element) {
    var holder = element && element.closest ? element.closest("[lang]") : null;
    return (holder && holder.getAttribute("lang")) || root.getAttribute("lang");
  }

  // Speaks parts one after another; each part is [text, language].
  function speak(parts) {
    if (!speech) return;
    speech.cancel();
    parts.forEach(function (part) {
      var text = (part[0] || "").trim();
      if (!text) return;
      var utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = part[1] || root.getAttribute("lang");
      utterance.rate = RATES[get("speed")] || 1;
      var voice = voiceFor(utterance.lang);
      if (voice) utterance.voice = voice;
      speech.speak(utterance);
    });
  }

  function stop() {
    if (speech) speech.cancel();
  }

  function messageParts(article) {
    var answer = article.querySelector(".answer");
    return [
      [article.getAttribute("data-speaker"), root.getAttribute("lang")],
      [article.getAttribute("data-text"), article.getAttribute("data-lang") || languageOf(answer)]
    ];
  }

  function readMessages(articles) {
    var parts = [];
    articles.forEach(function (article) {
      parts = parts.concat(messageParts(article));
    });
    speak(parts);
  }

  function finalMessages() {
    return Array.prototype.slice.call(
      document.querySelectorAll("#transcript article[data-message]")
    );
  }

  function latestAnswer() {
    var answers = document.querySelectorAll("#transcript article.from-assistant[data-message]");
    return answers.length ? answers[answers.length - 1] : null;
  }

  // The words of an element for point-to-read and the caption bar.
  var READABLE = "p, li, h1, h2, h3, h4, td, th, button, a, summary, label, .answer, textarea";
  function readableText(element) {
    if (!element || !element.closest) return "";
    var target = element.closest(READABLE);
    if (!target || target.closest("[aria-hidden='true']")) return "";
    if (target.tagName === "TEXTAREA") {
      var label = document.querySelector("label[for='" + target.id + "']");
      return target.getAttribute("aria-label") || (label && label.textContent) ||
        (target.closest("label") && target.closest("label").textContent) || "";
    }
    return (target.getAttribute("aria-label") || target.innerText || target.textContent || "")
      .replace(/\s+/g, " ").trim();
  }

  var pointTimer = null;
  function pointAt(element) {
    if (get("sound") !== "on") return;
    clearTimeout(pointTimer);
    pointTimer = setTimeout(function () {
      var target = element.closest ? element.closest(READABLE) : null;
      if (!target) return;
      if (get("readmode") === "continuous") {
        var all = Array.prototype.slice.call(document.querySelectorAll(
          ".gradio-container " + READABLE.split(", ").join(", .gradio-container ")));
        var start = all.indexOf(target);
        var parts = [];
        all.slice(start < 0 ? 0 : start).forEach(function (node) {
          if (node.closest(".transcript, .tool-panel, dialog") && !node.closest(".answer")) return;
          if (parts.length && node.parentElement && node.parentElement.closest(READABLE) &&
              all.indexOf(node.parentElement.closest(READABLE)) >= start) return;
          parts.push([readableText(node), languageOf(node)]);
        });
        speak(parts);
      } else {
        speak([[readableText(target), languageOf(target)]]);
      }
    }, 350);
  }

  // ---- reading guide and caption bar ----------------------------------------------------------
  var guide = null;
  var caption = null;
  function ensureOverlays() {
    if (guide) return;
    guide = [document.createElement("div"), document.createElement("div")];
    guide[0].className = "reading-guide horizontal";
    guide[1].className = "reading-guide vertical";
    caption = document.createElement("div");
    caption.className = "caption-bar";
    caption.setAttribute("lang", root.getAttribute("lang"));
    [guide[0], guide[1], caption].forEach(function (node) {
      node.setAttribute("aria-hidden", "true");
      document.body.appendChild(node);
    });
  }

  function moveGuide(x, y) {
    if (get("guide") !== "on") return;
    ensureOverlays();
    guide[0].style.top = y + "px";
    guide[1].style.left = x + "px";
  }

  function showCaption(element) {
    if (get("captions") !== "on") return;
    ensureOverlays();
    var text = readableText(element);
    if (text) {
      caption.textContent = text;
      caption.setAttribute("lang", languageOf(element));
    }
  }

  // ---- keeping the toolbar's pressed states and the page in step --------------------------------
  function sync() {
    var buttons = document.querySelectorAll("[data-a11y-set], [data-a11y-toggle]");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      var name = button.getAttribute("data-a11y-set") || button.getAttribute("data-a11y-toggle");
      var pressed = button.hasAttribute("data-a11y-set")
        ? get(name) === button.getAttribute("data-value")
        : get(name) === CHOICES[name][1];
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
    }
    var details = document.getElementById("a11y-tools");
    if (details && !details.hasAttribute("data-bound")) {
      details.setAttribute("data-bound", "");
      if (saved.tools === "open") details.open = true;
      details.addEventListener("toggle", function () {
        saved.tools = details.open ? "open" : "closed";
        try {
          localStorage.setItem(KEY, JSON.stringify(saved));
        } catch (error) { /* fine */ }
      });
    }
    var box = questionBox();
    var hint = document.getElementById("input-hint");
    if (box && hint && !box.hasAttribute("aria-describedby")) {
      box.setAttribute("aria-describedby", "input-hint");
      box.id = box.id || "question-input";
    }
    if (focusWhenDrawn && box) {
      focusWhenDrawn = false;
      box.focus();
    }
    tellSize();
    // Gradio writes dir="ltr" on every block; in a right-to-left page they follow the page.
    if (root.getAttribute("dir") === "rtl") {
      var fixed = document.querySelectorAll(".gradio-container [dir='ltr']:not(textarea, input)");
      for (var j = 0; j < fixed.length; j++) fixed[j].removeAttribute("dir");
    }
    watchTranscript();
  }

  function questionBox() {
    return document.querySelector("#question textarea");
  }

  function focusQuestion() {
    var box = questionBox();
    if (box) box.focus();
  }

  // ---- the transcript: announce each message once, scroll, give focus back ---------------------
  var announced = 0;
  var lastState = "idle";
  var observed = null;
  function watchTranscript() {
    var transcript = document.getElementById("transcript");
    if (!transcript || transcript === observed) return;
    observed = transcript;
    announced = finalMessages().length;
    new MutationObserver(onTranscript).observe(transcript, {
      childList: true, subtree: true, characterData: true, attributes: true,
      attributeFilter: ["data-state"]
    });
  }

  // After an answer, the conversation and the question box are shown together when the window
  // has room for both (the widget's panel, a phone): focusing the box alone could leave the
  // answer scrolled away above it.
  function showConversation() {
    var heading = document.getElementById("conversation-heading");
    var box = questionBox();
    if (!heading || !box) return;
    var top = heading.getBoundingClientRect().top;
    var bottom = box.getBoundingClientRect().bottom;
    if (top >= 0 && bottom <= window.innerHeight) return;
    if (bottom - top + 16 <= window.innerHeight) window.scrollBy(0, top - 8);
  }

  function onTranscript() {
    var transcript = document.getElementById("transcript");
    if (!transcript) return;
    var messages = finalMessages();
    if (messages.length < announced) announced = 0; // the conversation was cleared
    var state = transcript.getAttribute("data-state");
    for (; announced < messages.length; announced++) {
      var article = messages[announced];
      if (!article.classList.contains("error")) announce(article.getAttribute("data-announce"));
    }
    if (state !== lastState) {
      if (state === "done") {
        var latest = messages[messages.length - 1];
        if (latest) transcript.scrollTop = Math.max(0, latest.offsetTop - transcript.offsetTop - 8);
        var answer = latestAnswer();
        if (answer && answer === latest && get("sound") === "on") readMessages([answer]);
        var active = document.activeElement;
        var elsewhere = active && active !== document.body &&
          active.closest("dialog, .a11y-tools, .languages, #feedback, #clear-confirm");
        if (!elsewhere) {
          focusQuestion();
          // once Gradio has drawn what came with the answer (the feedback buttons)
          setTimeout(showConversation, 150);
        }
      }
      lastState = state;
    }
    if (state === "searching" || state === "streaming") {
      transcript.scrollTop = transcript.scrollHeight;
    }
  }

  // ---- actions ----------------------------------------------------------------------------------
  function openDetails(selector) {
    var details = document.querySelector(selector);
    if (!details) return;
    details.open = true;
    var first = details.querySelector("a, button");
    if (first) first.focus();
  }

  var ACTIONS = {
    "bigger": function () {
      var size = Math.min(4, Number(get("size")) + 1);
      set("size", String(size));
      announceSize();
    },
    "smaller": function () {
      var size = Math.max(0, Number(get("size")) - 1);
      set("size", String(size));
      announceSize();
    },
    "toggle-elder": function () {
      set("mode", get("mode") === "elder" ? "standard" : "elder");
    },
    "contrast-next": function () {
      var list = CHOICES.contrast;
      set("contrast", list[(list.indexOf(get("contrast")) + 1) % list.length]);
    },
    "reset": reset,
    "stop": stop,
    "read-all": function () {
      readMessages(finalMessages());
    },
    "read-latest": function () {
      var answer = latestAnswer();
      if (answer) readMessages([answer]);
    },
    "focus-question": focusQuestion,
    "focus-transcript": function () {
      var transcript = document.getElementById("transcript");
      if (transcript) transcript.focus();
    },
    "tools": function () {
      openDetails("#a11y-tools");
    },
    "languages": function () {
      openDetails("details.languages");
    },
    "help": function () {
      var dialog = document.getElementById("a11y-help");
      if (dialog && !dialog.open) dialog.showModal();
    }
  };

  function announceSize() {
    var holder = document.querySelector("[data-size-message]");
    var template = holder ? holder.getAttribute("data-size-message") : "";
    var percent = 100 + 25 * Number(get("size"));
    var region = document.getElementById("a11y-announcer");
    if (region) announce(template.replace("{percent}", String(percent)));
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : event.target.parentElement;
    var language = target && target.closest(".languages a[hreflang]");
    if (language && event.button === 0 && !(event.ctrlKey || event.metaKey || event.shiftKey)) {
      event.preventDefault();
      changeLanguage(language.getAttribute("hreflang"));
      return;
    }
    var button = target && target.closest("[data-a11y-set], [data-a11y-toggle], [data-a11y-action], [data-read], .skip-link");
    if (!button) return;
    if (button.classList.contains("skip-link")) {
      event.preventDefault();
      focusQuestion();
      return;
    }
    if (button.hasAttribute("data-a11y-set")) {
      set(button.getAttribute("data-a11y-set"), button.getAttribute("data-value"));
    } else if (button.hasAttribute("data-a11y-toggle")) {
      var name = button.getAttribute("data-a11y-toggle");
      set(name, get(name) === CHOICES[name][1] ? CHOICES[name][0] : CHOICES[name][1]);
    } else if (button.hasAttribute("data-read")) {
      var article = button.closest("article[data-message]");
      if (article) readMessages([article]);
    } else {
      var action = ACTIONS[button.getAttribute("data-a11y-action")];
      if (action) action();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var speaking = speech && (speech.speaking || speech.pending);
      stop();
      var menu = document.activeElement && document.activeElement.closest &&
        document.activeElement.closest("details[open]");
      if (menu) {
        menu.open = false;
        menu.querySelector("summary").focus();
      } else if (!speaking && !document.querySelector("dialog[open]")) {
        tellHost("close");
      }
      return;
    }
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return;
    var row = document.querySelector("#a11y-help tr[data-key='" + event.code + "']");
    if (!row) return;
    var action = ACTIONS[row.getAttribute("data-action")];
    if (!action) return;
    event.preventDefault();
    action();
  });

  document.addEventListener("mousemove", function (event) {
    moveGuide(event.clientX, event.clientY);
  }, { passive: true });
  document.addEventListener("mouseover", function (event) {
    showCaption(event.target);
    pointAt(event.target);
  });
  document.addEventListener("focusin", function (event) {
    var rect = event.target.getBoundingClientRect ? event.target.getBoundingClientRect() : null;
    if (rect) moveGuide(rect.left + rect.width / 2, rect.top + rect.height / 2);
    showCaption(event.target);
    pointAt(event.target);
  });

  // ---- language: the page in another language keeps what the URL says besides settings -----------
  function changeLanguage(code) {
    var params = new URLSearchParams(location.search);
    // Display settings are remembered; from the URL they would undo the resident's changes.
    DISPLAY.forEach(function (name) {
      params.delete(name);
    });
    params.set("lang", code);
    location.search = params.toString();
  }

  // ---- in a host page's panel (the widget, docs/embedding.md) ------------------------------------
  // embed.js greets each page from the parent window. Replies go to that window only, at the
  // origin the browser reports for it: frame-ancestors has already kept out parents that are
  // not allowed, and a sandboxed ("null") parent is not answered.
  var PREFIX = "gov-assistant:";
  var host = null;
  var toldSize = null;
  var focusWhenDrawn = false;

  function tellHost(type, fields) {
    if (host) window.parent.postMessage(Object.assign({ type: PREFIX + type }, fields), host);
  }

  // Elder mode and large text need a larger panel.
  function panelSize() {
    return get("mode") === "elder" || Number(get("size")) >= 2 ? "large" : "normal";
  }

  function tellSize() {
    var size = panelSize();
    if (host && size !== toldSize) {
      toldSize = size;
      tellHost("resize", { size: size });
    }
  }

  if (root.hasAttribute("data-embed") && window.parent !== window) {
    window.addEventListener("message", function (event) {
      var message = event.data;
      if (event.source !== window.parent || !message || typeof message.type !== "string") return;
      if (message.type === PREFIX + "hello" && event.origin !== "null") {
        host = event.origin;
        toldSize = panelSize();
        tellHost("ready", { size: toldSize });
      } else if (message.type === PREFIX + "opened" && event.origin === host) {
        // The panel has opened: the question box takes the focus, once Gradio has drawn it.
        focusWhenDrawn = true;
        sync();
      }
    });
  }

  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      sync();
    });
  }).observe(document.documentElement, { childList: true, subtree: true });

  window.portalAccessibility = { get: get, set: set, reset: reset, speak: speak, stop: stop };
})();
