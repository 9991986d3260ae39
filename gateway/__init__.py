"""The question gateway: understands a resident's question, routes it to a back end, and
brings the answer back in the resident's language."""

__version__ = "0.1.0"
