"""The residents' portal: a Gradio web page (and, later, an embeddable widget)."""
