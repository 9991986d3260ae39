// The operators' page: signs in with the admin token and drives /api/v1/admin/*.
// Data from the server is only ever put on the page as text (textContent), never as markup.
"use strict";

(function () {
  const S = JSON.parse(document.getElementById("admin-strings").textContent);
  const lang = document.documentElement.lang;
  const TOKEN = "gateway-admin-token";
  const PAGE = 25;
  const state = { unanswered: 0, feedback: 0 };
  const dates = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  const numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const $ = (id) => document.getElementById(id);

  function text(key, params) {
    return (S[key] || key).replace(/\{(\w+)\}/g, (_, name) =>
      params && name in params ? String(params[name]) : "{" + name + "}");
  }

  function announce(message) {
    $("status").textContent = "";
    // A fresh text node each time, so screen readers announce a repeated message too.
    window.setTimeout(() => { $("status").textContent = message; }, 50);
  }

  function when(value) {
    return value ? dates.format(new Date(value)) : "";
  }

  function element(tag, content, attributes) {
    const node = document.createElement(tag);
    if (content !== undefined && content !== null) node.textContent = String(content);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    return node;
  }

  class Refused extends Error {}

  async function api(path, options) {
    const token = sessionStorage.getItem(TOKEN) || "";
    const init = Object.assign({}, options || {});
    init.headers = Object.assign({
      "Authorization": "Bearer " + token,
      "Accept-Language": lang,
    }, init.headers || {});
    const response = await fetch(path, init);
    if (!response.ok) {
      let message = response.statusText;
      try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
      if (response.status === 401 || response.status === 403) {
        signOut();
        throw new Refused(message);
      }
      throw new Error(message);
    }
    return response;
  }

  async function json(path, options) {
    return (await api(path, options)).json();
  }

  function failed(error) {
    announce(error instanceof Refused ? text("token_refused", { message: error.message })
                                      : text("error", { message: error.message }));
  }

  // -- signing in -------------------------------------------------------------------------

  function signedIn(yes) {
    $("signin").hidden = yes;
    $("workspace").hidden = !yes;
    $("signout").hidden = !yes;
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN);
    signedIn(false);
  }

  async function signIn(event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN, $("token").value.trim());
    $("token").value = "";
    try {
      await loadKnowledge();
    } catch (error) {
      failed(error);
      $("token").focus();
      return;
    }
    signedIn(true);
    announce(text("signed_in"));
    $("unanswered-heading").setAttribute("tabindex", "-1");
    $("unanswered-heading").focus();
    await loadEverything();
  }

  async function loadEverything() {
    try {
      await Promise.all([loadUnanswered(), loadFeedback(), loadHot(), loadKnowledge(),
                         loadSources()]);
    } catch (error) {
      failed(error);
    }
  }

  // -- unanswered questions ---------------------------------------------------------------

  function pager(id, offset, shown, total) {
    const pagerNode = $(id);
    pagerNode.querySelector(".position").textContent = total
      ? text("position", { from: offset + 1, to: offset + shown, total: total })
      : text("none");
    const [previous, next] = pagerNode.querySelectorAll("button");
    previous.disabled = offset === 0;
    next.disabled = offset + shown >= total;
  }

  // One row per group of questions alike in meaning (GET /unanswered/groups); what an
  // operator does to a row applies to every question of the group.
  async function loadUnanswered() {
    const status = $("unanswered-status").value;
    const query = new URLSearchParams({ limit: PAGE, offset: state.unanswered });
    if (status) query.set("status", status);
    const data = await json("/api/v1/admin/unanswered/groups?" + query);
    const rows = $("unanswered-rows");
    rows.replaceChildren();
    for (const item of data.items) rows.append(unansweredRow(item));
    $("unanswered-caption").textContent = text("unanswered_caption", { total: data.total });
    $("unanswered-grouping").textContent = data.method === "embedding"
      ? text("grouped_meaning", { threshold: data.threshold, count: data.by_meaning })
      : text("grouped_text_" + data.fallback);
    pager("unanswered-pager", state.unanswered, data.items.length, data.total);
  }

  function statusText(item) {
    return item.status === "linked" ? text("status_linked_to", { entry: item.entry_id })
                                    : text("status_" + item.status);
  }

  function questionCell(item, questionId) {
    const cell = document.createElement("td");
    cell.append(element("span", item.question, { id: questionId, class: "representative" }));
    if (item.members.length > 1) {
      const details = element("details");
      details.append(element("summary", text("members", { count: item.members.length })));
      const list = element("ul", null, { class: "members" });
      for (const member of item.members) {
        list.append(element("li", text("member_item", {
          question: member.question, count: member.count, language: member.language || "—",
          when: when(member.last_seen), status: statusText(member),
        }), { lang: member.language || "" }));
      }
      details.append(list);
      cell.append(details);
    }
    return cell;
  }

  function unansweredRow(item) {
    const row = document.createElement("tr");
    const questionId = "question-" + item.id;
    const ids = item.members.map((member) => member.id);
    const open = item.members.filter((member) => member.status === "open").map((m) => m.id);
    row.append(
      questionCell(item, questionId),
      element("td", item.count, { class: "number" }),
      element("td", item.languages.join(", ")),
      element("td", when(item.first_seen)),
      element("td", when(item.last_seen)),
      element("td", text("reason_" + item.reason)),
      element("td", statusText(item)),
    );
    const actions = element("div", null, { class: "actions" });
    if (open.length) {
      const resolve = element("button", text("mark_resolved"),
        { type: "button", "aria-describedby": questionId });
      resolve.addEventListener("click", () => mark(open, item, { status: "resolved" }));
      const inputId = "entry-" + item.id;
      const label = element("label", text("entry_label"), { for: inputId });
      const input = element("input", null,
        { id: inputId, type: "text", autocomplete: "off", "aria-describedby": questionId });
      const link = element("button", text("link"),
        { type: "button", class: "secondary", "aria-describedby": questionId });
      link.addEventListener("click", () => {
        if (!input.value.trim()) { announce(text("entry_needed")); input.focus(); return; }
        mark(open, item, { status: "linked", entry_id: input.value.trim() });
      });
      actions.append(resolve, label, input, link);
    } else {
      const reopen = element("button", text("reopen"),
        { type: "button", class: "secondary", "aria-describedby": questionId });
      reopen.addEventListener("click", () => mark(ids, item, { status: "open" }));
      actions.append(reopen);
    }
    const cell = document.createElement("td");
    cell.append(actions);
    row.append(cell);
    return row;
  }

  async function mark(ids, item, change) {
    try {
      let updated = null;
      // One after the other: a refused link (an unknown entry) stops at the first question.
      for (const id of ids) {
        updated = await json("/api/v1/admin/unanswered/" + id, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(change),
        });
      }
      await loadUnanswered();
      announce(text("marked", { question: item.question, status: text("status_" + updated.status) }));
      $("unanswered-caption").setAttribute("tabindex", "-1");
      $("unanswered-caption").focus();
    } catch (error) {
      failed(error);
    }
  }

  // -- feedback ---------------------------------------------------------------------------

  async function loadFeedback() {
    const helpful = $("feedback-rating").value;
    const query = new URLSearchParams({ limit: PAGE, offset: state.feedback });
    if (helpful) query.set("helpful", helpful);
    const data = await json("/api/v1/admin/feedback?" + query);
    const rows = $("feedback-rows");
    rows.replaceChildren();
    for (const item of data.items) {
      const row = document.createElement("tr");
      row.append(
        element("td", when(item.created_at)),
        element("td", item.helpful ? text("rating_helpful") : text("rating_not_helpful")),
        element("td", item.question),
        element("td", item.comment),
        element("td", item.backend),
        element("td", item.entry_id),
      );
      rows.append(row);
    }
    $("feedback-caption").textContent = text("feedback_caption", { total: data.total });
    $("feedback-summary").textContent = text("feedback_totals", data.summary);
    const worst = $("feedback-worst");
    worst.replaceChildren();
    for (const item of data.summary.worst) {
      worst.append(element("li", text("worst_item", {
        question: item.question || item.entry_id || "—", count: item.not_helpful,
      })));
    }
    if (!data.summary.worst.length) worst.append(element("li", text("none")));
    pager("feedback-pager", state.feedback, data.items.length, data.total);
  }

  // -- hot questions and the knowledge base -----------------------------------------------

  async function loadHot() {
    const data = await json("/api/v1/admin/hot");
    $("hot-intro").textContent = text("hot_intro", {
      hours: data.settings.half_life_hours, count: data.settings.min_count,
    });
    const fill = (id, items, withCount) => {
      const list = $(id);
      list.replaceChildren();
      for (const item of items) {
        const label = withCount ? text("hot_item", { question: item.question, count: numbers.format(item.count) })
                                : item.question;
        list.append(element("li", label));
      }
      if (!items.length) list.append(element("li", text("none")));
    };
    fill("hot-shown", data.shown, false);
    fill("hot-traffic", data.traffic, true);
  }

  async function loadKnowledge() {
    const data = await json("/api/v1/admin/knowledge");
    $("knowledge-summary").textContent = text("knowledge_summary", data);
    return data;
  }

  async function loadSources() {
    const data = await json("/api/v1/admin/sources");
    $("sources-caption").textContent = text("sources_caption", data.totals);
    $("sources-built").textContent = text("sources_built", { when: when(data.built_at) });
    const last = data.last_reload;
    $("sources-reload").textContent = !last ? text("sources_never_reloaded")
      : last.problems.length
        ? text("sources_reload_refused", { when: when(last.at), problems: last.problems.join(" · ") })
        : text("sources_reloaded", { when: when(last.at), count: last.changed.length });
    const rows = $("sources-rows");
    rows.replaceChildren();
    for (const file of data.files) {
      const row = document.createElement("tr");
      const problems = document.createElement("td");
      if (file.problems.length) {
        const list = element("ul", null, { class: "problems" });
        for (const problem of file.problems) list.append(element("li", problem));
        problems.append(list);
      } else {
        problems.textContent = text("none");
      }
      row.append(
        element("td", file.file, { class: "file" }),
        element("td", file.kind),
        element("td", file.entries, { class: "number" }),
        element("td", file.passages, { class: "number" }),
        problems,
      );
      rows.append(row);
    }
  }

  async function reloadKnowledge() {
    const button = $("knowledge-reload");
    button.disabled = true;
    announce(text("reloading"));
    try {
      const data = await json("/api/v1/admin/knowledge/reload", { method: "POST" });
      $("knowledge-summary").textContent = text("knowledge_summary", data);
      announce(text("reloaded", data));
      await Promise.all([loadHot(), loadSources()]);
    } catch (error) {
      failed(error);
      loadSources().catch(() => {});  // shows why the reload was refused
    } finally {
      button.disabled = false;
      button.focus();
    }
  }

  async function download(path, filename) {
    try {
      const blob = await (await api(path)).blob();
      const url = URL.createObjectURL(blob);
      const anchor = element("a", null, { href: url, download: filename });
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10000);
      announce(text("exported", { file: filename }));
    } catch (error) {
      failed(error);
    }
  }

  // -- wiring -----------------------------------------------------------------------------

  function onPager(id, key, load) {
    $(id).addEventListener("click", (event) => {
      const step = Number(event.target.dataset && event.target.dataset.step);
      if (!step) return;
      state[key] = Math.max(0, state[key] + step * PAGE);
      load().catch(failed);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", signIn);
    $("signout").addEventListener("click", () => {
      signOut();
      announce(text("signed_out"));
      $("token").focus();
    });
    $("unanswered-filter").addEventListener("submit", (event) => {
      event.preventDefault();
      state.unanswered = 0;
      loadUnanswered().catch(failed);
    });
    $("feedback-filter").addEventListener("submit", (event) => {
      event.preventDefault();
      state.feedback = 0;
      loadFeedback().catch(failed);
    });
    onPager("unanswered-pager", "unanswered", loadUnanswered);
    onPager("feedback-pager", "feedback", loadFeedback);
    $("unanswered-export").addEventListener("click", () => {
      const status = $("unanswered-status").value;
      download("/api/v1/admin/unanswered.csv" + (status ? "?status=" + status : ""), "unanswered.csv");
    });
    $("feedback-export").addEventListener("click", () => {
      const helpful = $("feedback-rating").value;
      download("/api/v1/admin/feedback.csv" + (helpful ? "?helpful=" + helpful : ""), "feedback.csv");
    });
    $("knowledge-reload").addEventListener("click", reloadKnowledge);
    if (sessionStorage.getItem(TOKEN)) {
      loadKnowledge().then(() => { signedIn(true); return loadEverything(); }).catch(failed);
    }
  });
})();
