"""Safety and privacy on the question's path (docs/safety.md, docs/privacy.md).

- ``pii`` — personal numbers masked before anything leaves the gateway, is logged or stored;
- ``normalize`` and ``lexicon`` — operators' sensitive-word lexicons, one Aho-Corasick automaton;
- ``injection`` — prompt-injection patterns for routes with a language model;
- ``output`` — Markdown/HTML from back ends cleaned, citation addresses http(s) only;
- ``review`` — what ``ChatService`` calls: questions, route screening, answers, streams;
- ``audit`` — the log of safety events, without personal data;
- ``ratelimit`` — abuse limits with the ``limits`` library.
"""
