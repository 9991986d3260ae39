"""Native-language answers: translation engines, the protected glossary, curated translations.

``service.TranslationService`` is what the chat flow calls: it brings a foreign resident's
question into the language the back ends read and the answer back, preferring the knowledge
base's curated translations to machine translation. Engines implement ``base.Translator`` and
are registered in the ``gateway.translators`` entry-point group. docs/translation.md explains.
"""
