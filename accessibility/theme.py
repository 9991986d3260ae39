"""The Gradio theme of the portal: system fonts, rem sizes and colours taken from the palette.

Gradio themes know a light and a dark variant, chosen by Gradio itself. The portal has four
colour schemes (standard, high contrast, dark, and the system's forced colours) chosen by the
resident, so every colour of the theme points at a CSS custom property (``--a11y-…``) that
``portal.css`` sets per scheme; the dark variant points at the same properties, which makes
Gradio's own dark switch a no-op. Sizes are in rem so that the browser's font-size setting and
the toolbar's text size both apply; no web font is downloaded (CJK text uses the system's fonts).
"""

from __future__ import annotations

import inspect
from functools import cache

import gradio as gr

#: System font stacks: Latin first, then the CJK, Thai, Lao and Arabic faces systems ship.
SANS = (
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Noto Sans",
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans Thai",
    "Noto Sans Lao",
    "Noto Naskh Arabic",
    "sans-serif",
)
MONO = ("ui-monospace", "Menlo", "Consolas", "monospace")

_PALETTE = {
    "body_background_fill": "var(--a11y-bg)",
    "body_text_color": "var(--a11y-fg)",
    "body_text_color_subdued": "var(--a11y-muted)",
    "background_fill_primary": "var(--a11y-bg)",
    "background_fill_secondary": "var(--a11y-surface)",
    "border_color_primary": "var(--a11y-border)",
    "border_color_accent": "var(--a11y-accent)",
    "color_accent": "var(--a11y-accent)",
    "color_accent_soft": "var(--a11y-surface)",
    "link_text_color": "var(--a11y-link)",
    "link_text_color_hover": "var(--a11y-link)",
    "link_text_color_active": "var(--a11y-link)",
    "link_text_color_visited": "var(--a11y-link)",
    "block_background_fill": "var(--a11y-bg)",
    "block_border_color": "var(--a11y-border)",
    "block_label_text_color": "var(--a11y-fg)",
    "block_label_background_fill": "var(--a11y-bg)",
    "block_title_text_color": "var(--a11y-fg)",
    "block_info_text_color": "var(--a11y-muted)",
    "panel_background_fill": "var(--a11y-bg)",
    "panel_border_color": "var(--a11y-border)",
    "input_background_fill": "var(--a11y-bg)",
    "input_background_fill_focus": "var(--a11y-bg)",
    "input_background_fill_hover": "var(--a11y-bg)",
    "input_border_color": "var(--a11y-border)",
    "input_border_color_focus": "var(--a11y-focus)",
    "input_border_color_hover": "var(--a11y-fg)",
    "input_placeholder_color": "var(--a11y-muted)",
    "loader_color": "var(--a11y-accent)",
    "button_primary_background_fill": "var(--a11y-accent)",
    "button_primary_background_fill_hover": "var(--a11y-accent-hover)",
    "button_primary_border_color": "var(--a11y-accent)",
    "button_primary_border_color_hover": "var(--a11y-accent-hover)",
    "button_primary_text_color": "var(--a11y-on-accent)",
    "button_primary_text_color_hover": "var(--a11y-on-accent)",
    "button_secondary_background_fill": "var(--a11y-surface)",
    "button_secondary_background_fill_hover": "var(--a11y-surface-hover)",
    "button_secondary_border_color": "var(--a11y-border)",
    "button_secondary_border_color_hover": "var(--a11y-fg)",
    "button_secondary_text_color": "var(--a11y-fg)",
    "button_secondary_text_color_hover": "var(--a11y-fg)",
    "button_cancel_background_fill": "var(--a11y-surface)",
    "button_cancel_background_fill_hover": "var(--a11y-surface-hover)",
    "button_cancel_border_color": "var(--a11y-border)",
    "button_cancel_text_color": "var(--a11y-fg)",
    "error_background_fill": "var(--a11y-bg)",
    "error_border_color": "var(--a11y-error)",
    "error_text_color": "var(--a11y-error)",
}

_SIZES = {
    "body_text_size": "var(--a11y-text)",
    "prose_text_size": "var(--a11y-text)",
    "input_text_size": "var(--a11y-text)",
    "block_label_text_size": "var(--a11y-text)",
    "block_title_text_size": "var(--a11y-text)",
    "block_info_text_size": "var(--a11y-text)",
    "button_small_text_size": "var(--a11y-text)",
    "button_medium_text_size": "var(--a11y-text)",
    "button_large_text_size": "var(--a11y-text)",
    "button_small_padding": "0.5rem 1rem",
    "button_medium_padding": "0.5rem 1rem",
    "button_large_padding": "0.5rem 1.25rem",
    "input_padding": "0.625rem",
    "block_label_text_weight": "600",
    "button_border_width": "2px",
    "input_border_width": "2px",
    "shadow_drop": "none",
    "shadow_drop_lg": "none",
    "block_shadow": "none",
}


@cache
def portal_theme() -> gr.themes.Base:
    rem = gr.themes.Size(
        xxs="1rem", xs="1rem", sm="1.125rem", md="1.125rem", lg="1.25rem", xl="1.5rem",
        xxl="1.75rem",
    )  # fmt: skip
    theme = gr.themes.Base(text_size=rem, font=SANS, font_mono=MONO)
    accepted = inspect.signature(theme.set).parameters
    dark = {f"{name}_dark": v for name, v in _PALETTE.items() if f"{name}_dark" in accepted}
    return theme.set(**_PALETTE, **dark, **_SIZES)
