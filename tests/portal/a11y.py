"""Accessibility checks run in the real browser: axe-core, Chromium's accessibility tree, and
measurements axe does not make (target sizes, text sizes, focus rings, reflow)."""

from __future__ import annotations

import re
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Page

import locales

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
#: axe leaves target-size (WCAG 2.2 2.5.8) off by default.
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "rules": {"target-size": {"enabled": True}},
    "resultTypes": ["violations"],
}
#: High contrast promises 7:1: axe's AAA contrast rule checks it.
ENHANCED: dict[str, Any] = {
    "runOnly": {"type": "rule", "values": ["color-contrast-enhanced"]},
    "resultTypes": ["violations"],
}

_axe = Axe()

#: Roles of things a person operates or reads as a unit: each needs a name.
NAMED_ROLES = {
    "button", "link", "textbox", "searchbox", "checkbox", "radio", "combobox", "listbox",
    "menuitem", "tab", "slider", "switch", "spinbutton", "DisclosureTriangle", "log", "dialog",
}  # fmt: skip


def axe_violations(page: Page | Frame, options: dict[str, Any] = AXE_OPTIONS) -> list[str]:
    """Each violation as ``rule: target`` lines, empty when axe finds none."""
    result = _axe.run(page, options=options).response
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} {node['failureSummary']}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ]


def controls(page: Page | Frame) -> list[tuple[str, str]]:
    """(role, accessible name) of every control in Chromium's accessibility tree: of a page,
    or of one frame (a widget in a host page)."""
    nodes = _accessibility_tree(page)
    found = []
    for node in nodes:
        if node.get("ignored"):
            continue
        role = node.get("role", {}).get("value", "")
        if role in NAMED_ROLES:
            found.append((role, str(node.get("name", {}).get("value", "")).strip()))
    return found


def _accessibility_tree(target: Page | Frame) -> list[dict[str, Any]]:
    if isinstance(target, Page):
        session = target.context.new_cdp_session(target)
        try:
            return session.send("Accessibility.getFullAXTree")["nodes"]
        finally:
            session.detach()
    page = target.page
    try:  # a frame in a process of its own has a session of its own
        session = page.context.new_cdp_session(target)
        frame_id = None
    except PlaywrightError:  # else it is reached through its page's session, by its id
        session = page.context.new_cdp_session(page)
        frames = [session.send("Page.getFrameTree")["frameTree"]]
        frame_id = None
        while frames:
            tree = frames.pop()
            if tree["frame"]["url"] == target.url:
                frame_id = tree["frame"]["id"]
            frames += tree.get("childFrames", [])
    try:
        return session.send(
            "Accessibility.getFullAXTree", {"frameId": frame_id} if frame_id else {}
        )["nodes"]
    finally:
        session.detach()


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def ui_strings(locale: str, hotline: str = "12345") -> set[str]:
    """Every string the page's chrome may show in ``locale``, whitespace removed."""
    strings = set()
    for key in locales.keys(locale):
        template = locales.raw(locale, key) or ""
        if "{" in template:
            try:
                template = template.format(hotline=hotline)
            except KeyError:
                continue
        strings.add(_squash(template))
    strings |= {_squash(locales.info(code).name) for code in locales.available()}
    return strings


def content_strings(page: Page | Frame) -> set[str]:
    """Texts of controls that carry content rather than chrome (questions, sources)."""
    texts = page.evaluate(
        """() => [...document.querySelectorAll(
            '#transcript :is(button, a), #shortcuts button')].map(e => e.innerText)"""
    )
    return {_squash(text) for text in texts}


def unlocalized_controls(page: Page | Frame, locale: str) -> list[tuple[str, str]]:
    """Controls that are unnamed, or named with a string that is neither the page's language
    nor content (for example Gradio's own English labels)."""
    allowed = ui_strings(locale) | content_strings(page)
    allowed.add(_squash(locales.text("portal.transcript", locale)))
    return [
        (role, name)
        for role, name in controls(page)
        if not name or not _matches(_squash(name), allowed, locale)
    ]


def _matches(name: str, allowed: set[str], locale: str) -> bool:
    if name in allowed:
        return True
    # A chrome string with a question in it (did-you-mean, ask as typed) or a source link
    # followed by "(opens in a new window)".
    new_window = _squash(locales.text("portal.new_window", locale))
    return name.endswith(new_window) or any(
        name.startswith(prefix.split("{")[0]) and prefix.split("{")[0]
        for prefix in (
            _squash(locales.raw(locale, "portal.did_you_mean") or ""),
            _squash(locales.raw(locale, "portal.ask_as_typed") or ""),
        )
    )


def undersized_targets(page: Page, minimum: float) -> list[str]:
    """Controls smaller than ``minimum`` CSS px either way; links inside running text are
    exempt, as WCAG exempts them."""
    return page.evaluate(
        """(minimum) => {
        const small = [];
        const selector = '.gradio-container :is(button, a, summary, textarea, input)';
        for (const el of document.querySelectorAll(selector)) {
            const rect = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            if (!rect.width || !rect.height || style.visibility === 'hidden') continue;
            if (el.closest('.sr-only, [hidden], dialog:not([open])')) continue;
            if (el.closest('details:not([open]) > :not(summary)')) continue;
            if (el.matches('.answer a, .skip-link')) continue;
            if (rect.width + 0.5 < minimum || rect.height + 0.5 < minimum)
                small.push(`${el.tagName} "${(el.innerText || el.getAttribute('aria-label') || '')
                    .slice(0, 30)}" ${Math.round(rect.width)}x${Math.round(rect.height)}`);
        }
        return small;
    }""",
        minimum,
    )


def small_text(page: Page, minimum: float) -> list[str]:
    """Visible text drawn smaller than ``minimum`` CSS px."""
    return page.evaluate(
        """(minimum) => {
        const small = new Set();
        const walker = document.createTreeWalker(
            document.querySelector('.gradio-container'), NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (!node.textContent.trim()) continue;
            const el = node.parentElement;
            const hidden = '.sr-only, [aria-hidden="true"], dialog:not([open]), '
                + 'details:not([open]) > :not(summary)';
            if (el.closest(hidden)) continue;
            const rect = el.getBoundingClientRect();
            if (!rect.width || !rect.height) continue;
            const size = parseFloat(getComputedStyle(el).fontSize);
            if (size + 0.01 < minimum)
                small.add(`${el.tagName} "${node.textContent.trim().slice(0, 20)}" ${size}px`);
        }
        return [...small];
    }""",
        minimum,
    )


def horizontal_overflow(page: Page) -> int:
    """CSS px the page is wider than the window (0: no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``rgb()``/``rgba()`` colours."""

    def luminance(colour: str) -> float:
        red, green, blue = (int(x) / 255 for x in re.findall(r"[\d.]+", colour)[:3])

        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def focus_rings(page: Page, stops: int = 60) -> list[dict[str, Any]]:
    """Tab through the page from the top; the focus indicator of each control reached."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.click(1, 1)
    rings = []
    seen = set()
    for _ in range(stops):
        page.keyboard.press("Tab")
        ring = page.evaluate(
            """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return null;
            const style = getComputedStyle(el);
            const bg = getComputedStyle(document.body).backgroundColor;
            return {key: el.tagName + (el.id || '') + (el.innerText || '').slice(0, 20),
                    tag: el.tagName, text: (el.innerText || '').slice(0, 30),
                    width: parseFloat(style.outlineWidth), style: style.outlineStyle,
                    color: style.outlineColor, background: bg};
        }"""
        )
        if ring is None or ring["key"] in seen:
            break
        seen.add(ring["key"])
        rings.append(ring)
    return rings


# -- pages and the checks of every display mode ---------------------------------------------

MODES = [("normal", "standard"), ("normal", "elder"), ("high", "standard"), ("dark", "standard")]


def open_portal(browser, url: str, *, width: int = 1280, locale: str = "zh-CN", **context) -> Page:
    page = browser.new_context(
        viewport={"width": width, "height": 800}, locale=locale, **context
    ).new_page()
    page.goto(url)
    page.wait_for_selector("#shortcuts .chip", timeout=20_000)
    return page


def settle(page: Page) -> None:
    page.mouse.move(0, 0)
    page.wait_for_function("!document.querySelector('.pending')")
    page.wait_for_timeout(100)


def ask_first_hot_question(page: Page) -> None:
    page.locator("#shortcuts .chip").first.click()
    page.wait_for_selector("#transcript[data-state=done] article.from-assistant", timeout=20_000)
    settle(page)


def check_every_mode(page: Page, where: str) -> list[str]:
    problems = []
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    for contrast, mode in MODES:
        page.evaluate(
            f"portalAccessibility.set('contrast', '{contrast}');"
            f"portalAccessibility.set('mode', '{mode}')"
        )
        settle(page)
        label = f"{where} {contrast}/{mode}"
        problems += [f"{label} axe {v}" for v in axe_violations(page)]
        if contrast == "high":
            problems += [f"{label} 7:1 {v}" for v in axe_violations(page, ENHANCED)]
        elder = mode == "elder"
        problems += [f"{label} target {t}" for t in undersized_targets(page, 60 if elder else 44)]
        problems += [f"{label} text {t}" for t in small_text(page, 24 if elder else 18)]
        overflow = horizontal_overflow(page)
        if overflow > 0:
            problems.append(f"{label} scrolls sideways by {overflow}px")
    page.evaluate("portalAccessibility.reset()")
    return problems


# -- what residents experience beyond axe (issue 17) ------------------------------------------


def switch_states(page: Page) -> list[dict[str, Any]]:
    """Each switch (``aria-pressed``) drawn pressed and unpressed: background, text colour,
    border width and its marker (``::before``), read from the computed styles of both states."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.gradio-container [aria-pressed]')].map(b => {
        const was = b.getAttribute('aria-pressed');
        const look = () => {
            const s = getComputedStyle(b);
            return {background: s.backgroundColor, color: s.color,
                    border: parseFloat(s.borderTopWidth),
                    marker: getComputedStyle(b, '::before').content};
        };
        b.setAttribute('aria-pressed', 'true');
        const on = look();
        b.setAttribute('aria-pressed', 'false');
        const off = look();
        b.setAttribute('aria-pressed', was);
        return {label: b.innerText.trim(), on, off};
    })"""
    )


def cramped_text(page: Page) -> list[str]:
    """Visible text broken about a character a line: labels (buttons, links, headings,
    summaries) on two or more lines with under 2.5 characters a line, any text on three or
    more lines with under 1.5 (an inline run crossing one line end is fine)."""
    return page.evaluate(
        """() => {
        const cramped = [];
        const root = document.querySelector('.gradio-container');
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        const hidden = '.sr-only, [hidden], dialog:not([open]), '
            + 'details:not([open]) > :not(summary)';
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const chars = [...node.textContent.trim()].length;
            const el = node.parentElement;
            if (chars < 3 || el.closest(hidden)) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            const rects = [...range.getClientRects()].filter(r => r.width > 0);
            const lines = new Set(rects.map(r => Math.round(r.top))).size;
            const label = el.closest(
                'button, a, summary, label, h1, h2, h3, h4, .tool-group-label');
            const perLine = chars / lines;
            if ((label && lines >= 2 && perLine < 2.5) || (lines >= 3 && perLine < 1.5))
                cramped.push(`${el.tagName} "${node.textContent.trim().slice(0, 20)}" ${lines}`);
        }
        return cramped;
    }"""
    )


def inner_scrollers(page: Page) -> list[str]:
    """Elements other than text boxes that scroll on their own (a nested scroll box)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.gradio-container *')].filter(el => {
            if (el.matches('textarea, input, dialog, dialog *')) return false;
            const s = getComputedStyle(el);
            const scrolls = ['auto', 'scroll'].includes(s.overflowY);
            return scrolls && el.scrollHeight > el.clientHeight + 1;
        }).map(el => `${el.tagName}#${el.id} ${el.scrollHeight}/${el.clientHeight}`)"""
    )


def focus_in_view(page: Page) -> dict[str, Any]:
    return page.evaluate(
        """() => { const el = document.activeElement; const r = el.getBoundingClientRect();
        return {question: el === document.querySelector('#question textarea'),
                top: r.top, bottom: r.bottom, height: innerHeight,
                visible: r.top >= 0 && r.bottom <= innerHeight}; }"""
    )


def reading_order(page: Page) -> str:
    """The page's text as a screen reader reading it in order meets it: the static text of
    Chromium's accessibility tree, depth first from the root, ignored nodes left out."""
    session = page.context.new_cdp_session(page)
    try:
        nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()
    by_id = {node["nodeId"]: node for node in nodes}
    children = {node["nodeId"]: node.get("childIds", []) for node in nodes}
    has_parent = {child for ids in children.values() for child in ids}
    texts: list[str] = []
    stack = [node["nodeId"] for node in nodes if node["nodeId"] not in has_parent][::-1]
    while stack:
        node = by_id.get(stack.pop())
        if node is None:
            continue
        if not node.get("ignored") and node.get("role", {}).get("value") == "StaticText":
            texts.append(str(node.get("name", {}).get("value", "")))
        stack.extend(reversed(children.get(node["nodeId"], [])))
    return _squash("".join(texts))


def chinese_outside_marks(page: Page) -> list[str]:
    """Han text on a foreign page that is neither in an element marked ``lang="zh…"`` inside
    something marked untranslated (``data-untranslated``, which says so visibly), nor a
    resident's own words (their message, or marked ``lang="zh"`` in ``.resident-words``), a
    language's own name, or a name kept in an answer in the page's language (a ``lang="zh"``
    run inside it)."""
    return page.evaluate(
        """() => {
        const han = /[\\u3400-\\u4dbf\\u4e00-\\u9fff]/;
        const found = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (!han.test(node.textContent)) continue;
            const el = node.parentElement;
            const unseen = 'script, style, [hidden], .sr-only, [aria-hidden="true"], '
                + 'dialog:not([open])';
            if (el.closest(unseen)) continue;
            if (el.closest('.from-resident, [hreflang], .caption-bar')) continue;
            const zh = el.closest('[lang^="zh"]');
            // the resident's own words offered back (ask as typed): in their language
            if (zh && zh.closest('.resident-words')) continue;
            const marked = zh && zh.closest('[data-untranslated]');
            const kept = zh && zh !== el.closest('.answer')
                && zh.closest('.answer:not([data-untranslated])');
            if (!zh || !(marked || kept))
                found.push(`${el.tagName} "${node.textContent.trim().slice(0, 20)}"`);
        }
        return found;
    }"""
    )
