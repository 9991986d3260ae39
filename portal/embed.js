// The government services assistant on any site, with one script tag (docs/embedding.md):
//
//   <script src="https://ASSISTANT-HOST/embed.js" data-lang="en" async></script>
//
// It draws a launcher button that opens the widget (/widget) in a panel beside it. Everything
// lives in a shadow root, so the host page's styles and ours never meet. Nothing is loaded
// from us until a resident opens the panel, and the host page and the widget talk only by
// postMessage, each checking who is speaking: the widget's origin and window here, the
// parent window in the widget (whose origin the browser's frame-ancestors check vouches for).
(function () {
  "use strict";
  // Written in by the server (portal/embed.py): words per locale, language tags, the allowlist.
  var SETTINGS = /*SETTINGS*/ null;
  var script = document.currentScript;
  if (!SETTINGS || !script || window.govAssistant) return;

  var widgetUrl = new URL(SETTINGS.widget, script.src);
  var widgetOrigin = widgetUrl.origin;
  var data = script.dataset;
  var PREFIX = "gov-assistant:";

  // The same list the browser enforces as frame-ancestors: "*", "'self'" (the widget's own
  // origin), origins, and "scheme://*.domain[:port]" for every subdomain.
  function allowed(origin) {
    return SETTINGS.ancestors.some(function (source) {
      if (source === "*") return true;
      if (source === "'self'") return origin === widgetOrigin;
      var wildcard = source.indexOf("://*.");
      if (wildcard < 0) return origin === source;
      var scheme = source.slice(0, wildcard);
      var suffix = source.slice(wildcard + 4);
      var rest = origin.slice(scheme.length + 3);
      return origin.indexOf(scheme + "://") === 0 && rest.length > suffix.length &&
        rest.slice(-suffix.length) === suffix;
    });
  }
  if (!allowed(location.origin)) {
    console.warn("Government services assistant: " + location.origin + " is not in the " +
      "widget's [security] frame_ancestors allowlist, so no launcher is shown " +
      "(docs/embedding.md).");
    return;
  }

  function localeOf(tag) {
    var parts = String(tag || "").trim().replace(/_/g, "-").toLowerCase().split("-");
    for (var n = parts.length; n > 0; n--) {
      var code = SETTINGS.tags[parts.slice(0, n).join("-")];
      if (code) return code;
    }
    return null;
  }
  var locale = localeOf(data.lang) || localeOf(document.documentElement.lang) ||
    SETTINGS.default;
  var words = SETTINGS.locales[locale];
  var title = (data.title || "").replace(/\s+/g, " ").trim().slice(0, SETTINGS.titleLimit) ||
    words.title;

  var POSITIONS = ["bottom-right", "bottom-left", "top-right", "top-left"];
  var position = POSITIONS.indexOf(data.position) >= 0 ? data.position : "bottom-right";
  var LENGTH = /^\d+(\.\d+)?(px|rem|em|vh|vw|%)$/;
  function length(value, fallback) {
    return LENGTH.test(value || "") ? value : fallback;
  }

  var CSS = [
    ":host { all: initial; }",
    ".assistant { position: fixed; z-index: 2147483000; display: flex; gap: 12px;",
    "  --x: 24px; --y: 24px; max-height: calc(100vh - 2 * var(--y));",
    "  font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'PingFang SC',",
    "    'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif;",
    "  font-size: max(18px, 1.125rem); line-height: 1.4; color: #1b1b1f; }",
    ".bottom-right, .bottom-left { bottom: var(--y); flex-direction: column-reverse; }",
    ".top-right, .top-left { top: var(--y); flex-direction: column; }",
    ".bottom-right, .top-right { right: var(--x); align-items: flex-end; }",
    ".bottom-left, .top-left { left: var(--x); align-items: flex-start; }",
    "button { font: inherit; cursor: pointer; display: inline-flex; align-items: center;",
    "  justify-content: center; gap: 0.4em; margin: 0; }",
    ".launcher { flex: none; min-width: 60px; min-height: 60px; padding: 0 1.25em;",
    "  border: 2px solid #ffffff; border-radius: 30px; background: #0b57d0; color: #ffffff;",
    "  font-weight: 700; white-space: nowrap; box-shadow: 0 2px 10px rgb(0 0 0 / 0.35); }",
    ".launcher:hover { background: #0842a0; }",
    ".launcher svg, .close svg { width: 1.3em; height: 1.3em; flex: none; }",
    "button:focus-visible { outline: 3px solid #1b1b1f; outline-offset: 3px;",
    "  box-shadow: 0 0 0 3px #ffffff; }",
    ".panel { display: flex; flex-direction: column; box-sizing: border-box;",
    "  width: min(var(--width), calc(100vw - 2 * var(--x))); height: var(--height);",
    "  min-height: 0; flex: 0 1 auto; --width: 420px; --height: 640px; overflow: hidden;",
    "  background: #ffffff; border: 2px solid #1b1b1f; border-radius: 12px;",
    "  box-shadow: 0 8px 32px rgb(0 0 0 / 0.35); animation: gov-assistant-open 0.2s ease-out; }",
    ".panel.large { --width: 600px; --height: 860px; }",
    ".panel[hidden] { display: none; }",
    "@keyframes gov-assistant-open { from { opacity: 0; transform: translateY(12px); } }",
    ".bar { display: flex; justify-content: flex-end; padding: 6px;",
    "  border-bottom: 2px solid #6b7280; background: #f1f4f9; }",
    ".close { min-height: 48px; padding: 0 0.9em; border: 2px solid #6b7280;",
    "  border-radius: 8px; background: #ffffff; color: #1b1b1f; }",
    ".close:hover { background: #e2e8f2; border-color: #1b1b1f; }",
    "iframe { display: block; flex: 1 1 auto; width: 100%; min-height: 0; border: 0;",
    "  background: #ffffff; }",
    // Small screens: the panel takes the whole window.
    "@media (max-width: 480px), (max-height: 560px) {",
    "  .panel { position: fixed; inset: 0; width: auto; height: auto; border: 0;",
    "    border-radius: 0; } }",
    "@media (prefers-reduced-motion: reduce) { .panel { animation: none; } }",
    "@media (forced-colors: active) {",
    "  .launcher, .close { border: 2px solid ButtonText; }",
    "  .panel { border: 2px solid CanvasText; }",
    "  button:focus-visible { outline-color: Highlight; } }"
  ].join("\n");

  var SVG = "http://www.w3.org/2000/svg";
  function icon(paths) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("fill", "none");
    svg.setAttribute("stroke", "currentColor");
    svg.setAttribute("stroke-width", "2.2");
    svg.setAttribute("stroke-linecap", "round");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }
  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var holder = element("div", { "data-gov-assistant": "" });
  var shadow = holder.attachShadow({ mode: "open" });
  // A constructed stylesheet is not an inline style, so a host page whose own
  // Content-Security-Policy forbids inline styles still draws the launcher.
  if (shadow.adoptedStyleSheets && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    shadow.appendChild(element("style", {}, [CSS]));
  }
  var launcher = element("button", {
    type: "button", "class": "launcher", "aria-expanded": "false", "aria-controls": "panel"
  }, [icon(["M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"]),
    element("span", {}, [words.open])]);
  var closer = element("button", { type: "button", "class": "close" },
    [icon(["M6 6l12 12", "M18 6L6 18"]), element("span", {}, [words.close])]);
  var panel = element("div", {
    id: "panel", "class": "panel", role: "dialog", "aria-label": title, hidden: ""
  }, [element("div", { "class": "bar" }, [closer])]);
  var assistant = element("aside", {
    "class": "assistant " + position, "aria-label": title, lang: locale, dir: words.dir
  }, [launcher, panel]);
  assistant.style.setProperty("--x", length(data.offsetX, "24px"));
  assistant.style.setProperty("--y", length(data.offsetY, "24px"));
  shadow.appendChild(assistant);

  var frame = null;
  var ready = false;

  function frameUrl() {
    var url = new URL(widgetUrl.href);
    url.searchParams.set("lang", locale);
    ["mode", "contrast", "size", "agent", "title"].forEach(function (name) {
      if (data[name]) url.searchParams.set(name, data[name]);
    });
    return url.href;
  }

  function post(type) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage({ type: PREFIX + type },
      widgetOrigin);
  }

  function isOpen() {
    return !panel.hidden;
  }

  function open() {
    if (isOpen()) return;
    if (!frame) {
      frame = element("iframe", { title: title, lang: locale, src: frameUrl() });
      // Every page the widget loads (it reloads to change language) is greeted anew.
      frame.addEventListener("load", function () {
        ready = false;
        post("hello");
      });
      panel.appendChild(frame);
    }
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    frame.focus();
    if (ready) post("opened");
  }

  function close() {
    if (!isOpen()) return;
    var focusWasInside = panel.contains(shadow.activeElement);
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    if (focusWasInside) launcher.focus();
  }

  function resize(size) {
    panel.classList.toggle("large", size === "large");
  }

  launcher.addEventListener("click", function () {
    if (isOpen()) close();
    else open();
  });
  closer.addEventListener("click", close);
  assistant.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      close();
    }
  });

  window.addEventListener("message", function (event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== widgetOrigin) return;
    var message = event.data;
    if (!message || typeof message.type !== "string") return;
    if (message.type === PREFIX + "ready") {
      ready = true;
      resize(message.size);
      if (isOpen()) post("opened");
    } else if (message.type === PREFIX + "close") {
      close();
    } else if (message.type === PREFIX + "resize") {
      resize(message.size);
    }
  });

  function attach() {
    document.body.appendChild(holder);
  }
  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach);

  window.govAssistant = {
    open: open,
    close: close,
    toggle: function () {
      if (isOpen()) close();
      else open();
    }
  };
})();
