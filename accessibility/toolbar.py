"""The accessibility toolbar and its keyboard-shortcut help, as HTML in the page's language.

The markup is the single source of truth for ``portal.js``: buttons say what they do with
``data-a11y-set`` (a setting and the value it selects), ``data-a11y-toggle`` (a setting that is
switched between its two values) or ``data-a11y-action``; the help dialog's rows carry the key
(``data-key``, a ``KeyboardEvent.code`` pressed with Alt+Shift) and the action it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

Translate = Callable[[str], str]

#: Pressed with Alt+Shift: browsers and screen readers leave these free (no Alt+digit, and
#: none of Chrome's Alt+Shift+A/I/T), and ``KeyboardEvent.code`` works under any layout or IME.
SHORTCUT_MODIFIERS = "Alt+Shift"


@dataclass(frozen=True)
class Shortcut:
    code: str
    key: str
    action: str
    description: str


SHORTCUTS = [
    Shortcut("KeyQ", "Q", "focus-question", "a11y.key_question"),
    Shortcut("KeyC", "C", "focus-transcript", "a11y.key_transcript"),
    Shortcut("KeyR", "R", "read-latest", "a11y.key_read"),
    Shortcut("KeyS", "S", "stop", "a11y.key_stop"),
    Shortcut("Equal", "=", "bigger", "a11y.key_bigger"),
    Shortcut("Minus", "-", "smaller", "a11y.key_smaller"),
    Shortcut("KeyE", "E", "toggle-elder", "a11y.key_elder"),
    Shortcut("KeyK", "K", "contrast-next", "a11y.key_contrast"),
    Shortcut("KeyB", "B", "tools", "a11y.key_tools"),
    Shortcut("KeyL", "L", "languages", "a11y.key_languages"),
    Shortcut("KeyH", "H", "help", "a11y.key_help"),
]


def _button(label: str, attributes: str, pressable: bool = True) -> str:
    pressed = ' aria-pressed="false"' if pressable else ""
    return (
        f'<button type="button" class="a11y-button"{pressed} {attributes}>{escape(label)}</button>'
    )


def _group(label: str, ident: str, buttons: list[str]) -> str:
    return (
        f'<div class="tool-group" role="group" aria-labelledby="{ident}">'
        f'<span class="tool-group-label" id="{ident}">{escape(label)}</span>'
        f"{''.join(buttons)}</div>"
    )


#: The toolbar's groups: (label key, buttons). A button is (label key, what it does, whether it
#: is a switch with a pressed state).
GROUPS: list[tuple[str, list[tuple[str, str, bool]]]] = [
    (
        "a11y.group_reading",
        [
            ("a11y.sound", 'data-a11y-toggle="sound"', True),
            ("a11y.point_read", 'data-a11y-set="readmode" data-value="point"', True),
            ("a11y.continuous_read", 'data-a11y-set="readmode" data-value="continuous"', True),
            ("a11y.read_all", 'data-a11y-action="read-all"', False),
            ("a11y.stop_reading", 'data-a11y-action="stop"', False),
        ],
    ),
    (
        "a11y.speed",
        [
            (f"a11y.speed_{name}", f'data-a11y-set="speed" data-value="{name}"', True)
            for name in ("slow", "normal", "fast")
        ],
    ),
    (
        "a11y.group_text",
        [
            ("a11y.bigger", 'data-a11y-action="bigger"', False),
            ("a11y.smaller", 'data-a11y-action="smaller"', False),
            ("a11y.line_spacing", 'data-a11y-toggle="spacing"', True),
            ("a11y.plain_text", 'data-a11y-toggle="plain"', True),
        ],
    ),
    (
        "a11y.contrast",
        [
            (f"a11y.contrast_{name}", f'data-a11y-set="contrast" data-value="{name}"', True)
            for name in ("normal", "high", "dark")
        ],
    ),
    (
        "a11y.group_aids",
        [
            ("a11y.big_cursor", 'data-a11y-toggle="cursor"', True),
            ("a11y.guide", 'data-a11y-toggle="guide"', True),
            ("a11y.captions", 'data-a11y-toggle="captions"', True),
            ("a11y.reset", 'data-a11y-action="reset"', False),
            ("a11y.help", 'data-a11y-action="help"', False),
        ],
    ),
]


def _drawn(t: Translate, ident: str, group: tuple[str, list[tuple[str, str, bool]]]) -> str:
    label, buttons = group
    return _group(
        t(label),
        ident,
        [_button(t(key), attributes, switch) for key, attributes, switch in buttons],
    )


def toolbar(t: Translate) -> str:
    """The elder-mode switch and the collapsible toolbar."""
    groups = "".join(_drawn(t, f"tools-{number}", group) for number, group in enumerate(GROUPS))
    return (
        _button(t("a11y.elder"), 'data-a11y-toggle="mode"')
        + '<details class="a11y-tools" id="a11y-tools">'
        f"<summary>{escape(t('a11y.toolbar'))}</summary>"
        f'<div class="tool-panel">{groups}</div>'
        "</details>"
    )


def speed_buttons(t: Translate) -> str:
    """The three speeds as the toolbar has them, for the read-aloud player beside what is read."""
    return _drawn(t, "player-speed", next(group for group in GROUPS if group[0] == "a11y.speed"))


def help_dialog(t: Translate) -> str:
    rows = "".join(
        f'<tr data-key="{s.code}" data-action="{s.action}">'
        f"<td><kbd>{SHORTCUT_MODIFIERS}+{escape(s.key)}</kbd></td>"
        f"<td>{escape(t(s.description))}</td></tr>"
        for s in SHORTCUTS
    )
    fixed = "".join(
        f"<tr><td><kbd>{escape(key)}</kbd></td><td>{escape(t(description))}</td></tr>"
        for key, description in (
            ("Enter", "a11y.key_enter"),
            ("Shift+Enter", "a11y.key_shift_enter"),
            ("Tab / Shift+Tab", "a11y.key_tab"),
            ("Esc", "a11y.key_escape"),
        )
    )
    # Close comes first: the dialog opens with focus on it, and the list stays in view.
    return (
        '<dialog class="a11y-help" id="a11y-help" aria-labelledby="a11y-help-title">'
        '<div class="help-heading">'
        f'<h2 id="a11y-help-title">{escape(t("a11y.help_title"))}</h2>'
        '<form method="dialog">'
        f'<button type="submit" class="a11y-button">{escape(t("a11y.close"))}</button>'
        "</form></div>"
        f'<table><caption class="sr-only">{escape(t("a11y.help_title"))}</caption>'
        f'<thead><tr><th scope="col">{escape(t("a11y.help_key"))}</th>'
        f'<th scope="col">{escape(t("a11y.help_does"))}</th></tr></thead>'
        f"<tbody>{rows}{fixed}</tbody></table>"
        "</dialog>"
    )


def announcer() -> str:
    """The polite live region portal.js adds one line to for each message, once."""
    return (
        '<div id="a11y-announcer" class="sr-only" aria-live="polite" '
        'aria-relevant="additions"></div>'
    )
