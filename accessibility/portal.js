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
    if (name === "speed" && player) player.playbackRate = rate();
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
  // One line at a time, removed again once a screen reader has taken it: a region that kept
  // its lines would be read a second time, flattened, by anyone reading the page in order.
  var ANNOUNCED_FOR = 2500;
  function announce(text) {
    var region = document.getElementById("a11y-announcer");
    if (!region || !text) return;
    var line = document.createElement("p");
    line.textContent = text;
    region.appendChild(line);
    setTimeout(function () {
      if (line.parentNode) line.parentNode.removeChild(line);
    }, ANNOUNCED_FOR);
  }


  // ---- speech -------------------------------------------------------------------------------
  // The browser's own voice when it has one for the language; otherwise audio made by the
  // gateway (its Speaker, docs/accessibility.md), fetched through the portal and played here.
  var speech = window.speechSynthesis;
  var SPEECH_URL = "voice/speech";
  var reading = 0; // which reading is current: a newer one, or stop(), ends the older
  var player = null;
  var told = -1; // the reading that has said a language cannot be read aloud

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

  // The gateway's languages, as the portal wrote them into the page (portal/voice.py).
  function gatewaySpeaks(lang) {
    var support = document.getElementById("voice-support");
    if (!support || !lang) return false;
    var spoken = (support.getAttribute("data-speaks") || "").split(" ");
    var primary = lang.toLowerCase().split("-")[0];
    // By language: the gateway picks its voice for "zh" as for "zh-CN" (speech/service.py).
    for (var i = 0; i < spoken.length; i++) {
      if (spoken[i] && spoken[i].toLowerCase().split("-")[0] === primary) return true;
    }
    return false;
  }

  function canSpeak(lang) {
    return Boolean(voiceFor(lang)) || gatewaySpeaks(lang);
  }

  function languageOf(element) {
    var holder = element && element.closest ? element.closest("[lang]") : null;
    return (holder && holder.getAttribute("lang")) || root.getAttribute("lang");
  }

  function rate() {
    return RATES[get("speed")] || 1;
  }

  // Speaks parts one after another; each part is [text, language].
  function speak(parts) {
    stop();
    var current = reading;
    var list = parts.map(function (part) {
      return [(part[0] || "").trim(), part[1] || root.getAttribute("lang")];
    }).filter(function (part) { return part[0]; });
    if (!list.length) return;
    if (list.every(function (part) { return voiceFor(part[1]); })) {
      // The browser queues utterances itself; one that fails goes on through the gateway.
      list.forEach(function (part, index) {
        speech.speak(utterance(part, function () {
          if (current === reading) {
            speech.cancel();
            playFrom(list.slice(index), current, true);
          }
        }));
      });
      return;
    }
    playFrom(list, current, false);
  }

  function utterance(part, failed) {
    var spoken = new SpeechSynthesisUtterance(part[0]);
    spoken.lang = part[1];
    spoken.rate = rate();
    var voice = voiceFor(spoken.lang);
    try {
      if (voice) spoken.voice = voice;
    } catch (error) { /* the browser then picks by lang */ }
    spoken.onerror = function (event) {
      if (event.error !== "interrupted" && event.error !== "canceled") failed();
    };
    return spoken;
  }

  // One part at a time, each by the browser or the gateway, whichever has a voice for it.
  function playFrom(list, current, gatewayOnly) {
    if (current !== reading) return;
    if (!list.length) {
      showPlayer(false);
      return;
    }
    var part = list[0];
    var next = function () {
      playFrom(list.slice(1), current, gatewayOnly);
    };
    if (!gatewayOnly && voiceFor(part[1])) {
      var spoken = utterance(part, function () {
        playFrom(list, current, true);
      });
      spoken.onend = next;
      speech.speak(spoken);
    } else if (gatewaySpeaks(part[1])) {
      playAudio(part, current, next);
    } else {
      if (told !== current) tellUnavailable();
      told = current;
      next();
    }
  }

  function playAudio(part, current, next) {
    showPlayer(true);
    fetch(SPEECH_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: part[0], lang: part[1] })
    }).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (body) {
          throw new Error((body.error && body.error.message) || "");
        });
      }
      return response.blob();
    }).then(function (audio) {
      if (current !== reading) return;
      var element = audioElement();
      if (element.src) URL.revokeObjectURL(element.src);
      element.src = URL.createObjectURL(audio);
      element.playbackRate = rate();
      element.onended = next;
      element.onerror = next;
      return element.play();
    }).catch(function (error) {
      if (current !== reading) return;
      setPlayerState(error && error.message ? error.message : "");
      next();
    });
  }

  function audioElement() {
    if (!player) {
      player = document.createElement("audio");
      player.setAttribute("aria-hidden", "true");
      player.preservesPitch = true;
      document.body.appendChild(player);
    }
    return player;
  }

  // The player: what is being read, the three speeds and stop, under the question box.
  function showPlayer(playing) {
    var box = document.getElementById("speech-player");
    if (!box) return;
    box.hidden = !playing;
    setPlayerState(playing ? box.getAttribute("data-playing") : "");
  }

  function setPlayerState(text) {
    var state = document.getElementById("speech-state");
    if (state) state.textContent = text || "";
  }

  function tellUnavailable() {
    var support = document.getElementById("voice-support");
    var message = support && support.getAttribute("data-unavailable");
    if (message) announce(message);
  }

  function stop() {
    reading++;
    if (speech) speech.cancel();
    if (player) {
      player.pause();
      player.onended = null;
    }
    showPlayer(false);
  }

  // Read-aloud buttons say so when neither the browser nor the gateway speaks their answer.
  function markUnavailable() {
    var buttons = document.querySelectorAll("#transcript button[data-read]");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      var article = button.closest("article[data-message]");
      var lang = article && (article.getAttribute("data-lang") || languageOf(button));
      var able = !lang || canSpeak(lang);
      if (!button.hasAttribute("data-label")) button.setAttribute("data-label", button.textContent);
      var label = able ? button.getAttribute("data-label") : button.getAttribute("data-unavailable");
      if (button.textContent !== label) button.textContent = label;
      if (able) button.removeAttribute("aria-disabled");
      else button.setAttribute("aria-disabled", "true");
    }
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
    keepPlaced();
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

  // After an answer the question box has the focus and must be in view: Gradio draws the
  // rating buttons above it a moment later, which would push it below the window. The latest
  // message is shown from its start when it fits above the box, else the box comes into view
  // at the bottom of the window with as much of the answer above it as fits.
  var placeUntil = 0;
  function placeAfterAnswer() {
    var box = questionBox();
    var messages = finalMessages();
    var latest = messages[messages.length - 1];
    if (!box || document.activeElement !== box) return;
    var boxRect = box.getBoundingClientRect();
    var top = latest ? latest.getBoundingClientRect().top : boxRect.top;
    var room = window.innerHeight;
    if (boxRect.bottom - top + 16 <= room) {
      if (top < 0 || boxRect.bottom > room) window.scrollBy(0, top - 8);
    } else if (boxRect.top < 0 || boxRect.bottom > room) {
      window.scrollBy(0, boxRect.bottom - room + 8);
    }
  }

  function keepPlaced() {
    if (Date.now() < placeUntil) placeAfterAnswer();
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
    markUnavailable();
    if (state !== lastState) {
      if (state === "done") {
        var latest = messages[messages.length - 1];
        var answer = latestAnswer();
        if (answer && answer === latest && get("sound") === "on") readMessages([answer]);
        var active = document.activeElement;
        var elsewhere = active && active !== document.body &&
          active.closest("dialog, .a11y-tools, .languages, #feedback, #clear-confirm, #voice");
        if (!elsewhere) {
          focusQuestion();
          placeUntil = Date.now() + 2000;
          placeAfterAnswer();
          // and again as Gradio draws what came with the answer (the rating buttons)
          [100, 300, 700, 1500].forEach(function (delay) {
            setTimeout(keepPlaced, delay);
          });
        }
      }
      lastState = state;
    }
  }

  // ---- voice input (语音): record in the browser, the gateway's Transcriber writes it out -----
  // The button is only drawn when the gateway has a transcriber (portal/voice.py). The words
  // land in the question box for the resident to check; nothing is sent by itself.
  var TRANSCRIBE_URL = "voice/transcription";
  var recorder = null;
  var recordTimer = null;

  function voiceButton() {
    return document.getElementById("voice-input");
  }

  function voiceState(text, isError) {
    var status = document.getElementById("voice-status");
    var alert = document.getElementById("voice-alert");
    if (status) status.textContent = isError ? "" : text;
    if (alert) alert.textContent = isError ? text : "";
  }

  function setRecording(on) {
    var button = voiceButton();
    if (!button) return;
    button.textContent = button.getAttribute(on ? "data-stop" : "data-start");
    button.classList.toggle("recording", on);
  }

  function toggleRecording() {
    if (recorder) {
      recorder.stop();
      return;
    }
    var button = voiceButton();
    if (!button) return;
    var limit = Number(button.getAttribute("data-max-seconds")) || 60;
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      voiceState(button.getAttribute("data-no-microphone"), true);
      return;
    }
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var chunks = [];
      var started = Date.now();
      recorder = new MediaRecorder(stream);
      recorder.ondataavailable = function (event) {
        if (event.data && event.data.size) chunks.push(event.data);
      };
      recorder.onstop = function () {
        clearTimeout(recordTimer);
        stream.getTracks().forEach(function (track) { track.stop(); });
        var type = recorder.mimeType || "audio/webm";
        recorder = null;
        setRecording(false);
        var seconds = (Date.now() - started) / 1000;
        transcribe(new Blob(chunks, { type: type }), seconds);
      };
      recorder.start();
      setRecording(true);
      voiceState(button.getAttribute("data-recording"), false);
      // The recording stops by itself at the limit, so it is never refused for its length.
      recordTimer = setTimeout(function () {
        if (recorder) recorder.stop();
      }, limit * 1000);
    }).catch(function () {
      voiceState(button.getAttribute("data-no-microphone"), true);
    });
  }

  function transcribe(audio, seconds) {
    var button = voiceButton();
    voiceState(button.getAttribute("data-working"), false);
    var url = TRANSCRIBE_URL + "?lang=" + encodeURIComponent(root.getAttribute("lang")) +
      "&seconds=" + seconds.toFixed(1);
    fetch(url, { method: "POST", headers: { "Content-Type": audio.type }, body: audio })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error((body.error && body.error.message) || "");
          return body;
        });
      }).then(function (body) {
        var box = questionBox();
        if (!box) return;
        var text = (body.text || "").trim();
        box.value = box.value ? box.value.replace(/\s*$/, " ") + text : text;
        // Gradio's textbox listens for input events to keep its value.
        box.dispatchEvent(new Event("input", { bubbles: true }));
        box.focus();
        voiceState(text ? button.getAttribute("data-done") : button.getAttribute("data-empty"), !text);
      }).catch(function (error) {
        voiceState((error && error.message) || button.getAttribute("data-failed"), true);
      });
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
    if (target && target.closest("#voice-input")) {
      toggleRecording();
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
      if (button.getAttribute("aria-disabled") === "true") tellUnavailable();
      else if (article) readMessages([article]);
    } else {
      var action = ACTIONS[button.getAttribute("data-a11y-action")];
      if (action) action();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && recorder) {
      recorder.stop();
      return;
    }
    if (event.key === "Escape") {
      var speaking = (speech && (speech.speaking || speech.pending)) ||
        (player && !player.paused && !player.ended);
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
