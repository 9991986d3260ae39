// Runs inline in <head>, before the first paint: applies the resident's display settings
// (from the URL, else from localStorage, else from the system's preferences) as data-
// attributes on <html>, and keeps <html lang> in the page's language.
(function () {
  "use strict";
  var KEY = "gov-assistant.a11y";
  var CHOICES = {
    mode: ["standard", "elder"],
    contrast: ["normal", "high", "dark"],
    size: ["0", "1", "2", "3", "4"],
    spacing: ["normal", "wide"],
    cursor: ["off", "on"],
    guide: ["off", "on"],
    captions: ["off", "on"],
    plain: ["off", "on"]
  };
  var root = document.documentElement;
  // portal.js adds its own (speech) settings to these.
  window.portalBoot = { key: KEY, choices: CHOICES };
  var saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(KEY) || "{}") || {};
  } catch (error) {
    saved = {};
  }
  var params = new URLSearchParams(location.search);
  var fromUrl = false;
  Object.keys(CHOICES).forEach(function (name) {
    var wanted = params.get(name);
    if (wanted !== null && CHOICES[name].indexOf(wanted) >= 0) {
      saved[name] = wanted;
      fromUrl = true;
    }
  });
  if (fromUrl) {
    try {
      localStorage.setItem(KEY, JSON.stringify(saved));
    } catch (error) { /* private browsing: the URL still applies */ }
  }
  function prefers(query) {
    return window.matchMedia && window.matchMedia(query).matches;
  }
  var system = {
    contrast: prefers("(prefers-contrast: more)") ? "high"
      : prefers("(prefers-color-scheme: dark)") ? "dark" : "normal"
  };
  Object.keys(CHOICES).forEach(function (name) {
    var value = saved[name];
    if (CHOICES[name].indexOf(value) < 0) value = system[name] || CHOICES[name][0];
    root.setAttribute("data-" + name, value);
  });

  // Gradio's own strings follow navigator.language, and its i18n library rewrites <html lang>
  // to that language; both must follow the page's language instead.
  var lang = root.getAttribute("lang");
  var dir = root.getAttribute("dir");
  var gradioLang = root.getAttribute("data-gradio-lang") || lang;
  try {
    Object.defineProperty(navigator, "language", { get: function () { return gradioLang; } });
    Object.defineProperty(navigator, "languages", { get: function () { return [gradioLang]; } });
  } catch (error) { /* keep the browser's */ }
  new MutationObserver(function () {
    if (root.getAttribute("lang") !== lang) root.setAttribute("lang", lang);
    if (root.getAttribute("dir") !== dir) root.setAttribute("dir", dir);
  }).observe(root, { attributes: true, attributeFilter: ["lang", "dir"] });
})();
