"""The fixed parts of a portal page, in its language: header, question hint, privacy notice and
footer. The conversation itself is drawn by ``portal.render``."""

from __future__ import annotations

from html import escape

import locales
from accessibility.toolbar import announcer, help_dialog, toolbar

GLOBE = (
    '<svg class="icon" aria-hidden="true" focusable="false" width="1.1em" height="1.1em" '
    'viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2">'
    '<circle cx="12" cy="12" r="10"/>'
    '<path d="M2 12h20M12 2a15 15 0 0 1 0 20M12 2a15 15 0 0 0 0 20"/>'
    "</svg>"
)


class Page:
    """The strings and fixed markup of the page for one locale."""

    def __init__(self, locale: str, hotline: str) -> None:
        self.locale = locale
        self.hotline = hotline

    def t(self, key: str, **params: str) -> str:
        return locales.text(key, self.locale, **params)

    def e(self, key: str, **params: str) -> str:
        return escape(self.t(key, **params))

    def header(self, title: str | None = None) -> str:
        """The skip link, the heading (``title``, else the portal's), hotline, tools and the
        introduction (which the widget does not show)."""
        hotline = self.e("portal.hotline", hotline=self.hotline)
        tel = escape("".join(c for c in self.hotline if c.isdigit() or c == "+"))
        heading = escape(title) if title else self.e("portal.heading")
        return (
            f'<a class="skip-link" href="#question">{self.e("portal.skip_to_question")}</a>'
            '<header class="site-header">'
            f"<h1>{heading}</h1>"
            f'<p class="hotline"><a href="tel:{tel}">{hotline}</a></p>'
            f'<div class="header-tools" data-size-message="{self.e("a11y.size_changed")}">'
            f"{self.languages()}{toolbar(self.t)}</div>"
            "</header>"
            f'<p class="intro">{self.e("portal.intro")}</p>'
            f"{help_dialog(self.t)}"
        )

    def languages(self) -> str:
        """Every UI language under its own name; links reload the page in that language."""
        items = []
        for code in locales.available():
            info = locales.info(code)
            current = ' aria-current="page"' if code == self.locale else ""
            items.append(
                f'<li><a href="?lang={code}" hreflang="{code}" lang="{code}" dir="{info.direction}"'
                f"{current}>{escape(info.name)}</a></li>"
            )
        label = self.e("portal.language")
        return (
            f'<nav class="language-menu" aria-label="{label}"><details class="languages">'
            f"<summary>{GLOBE} {label}</summary><ul>{''.join(items)}</ul>"
            "</details></nav>"
        )

    def input_notes(self) -> str:
        return (
            f'<p class="input-hint" id="input-hint">{self.e("portal.input_hint")}</p>'
            '<details class="privacy">'
            f"<summary>{self.e('portal.privacy_title')}</summary>"
            f"<p>{self.e('portal.privacy_notice')}</p>"
            "</details>"
        )

    def feedback_prompt(self) -> str:
        return f'<p class="feedback-prompt">{self.e("portal.feedback_prompt")}</p>'

    def feedback_status(self, message: str = "") -> str:
        return f'<p class="feedback-status" role="status">{escape(message)}</p>'

    def clear_question(self) -> str:
        return f'<p id="clear-question">{self.e("portal.clear_confirm")}</p>'

    def footer(self, sample_notice: bool = True) -> str:
        notice = (
            f'<p class="sample-notice">{self.e("portal.sample_notice")}</p>'
            if sample_notice
            else ""
        )
        # The announcer comes last: whoever reads the page in order meets the conversation
        # first, and an announcement (removed once made, portal.js) never before it.
        return (
            '<footer class="site-footer">'
            f"<p>{self.e('portal.hotline', hotline=self.hotline)}</p>"
            f"{notice}"
            "</footer>"
            f"{announcer()}"
        )
