"""Read-aloud and voice input: the gateway's ``Speaker`` (text to speech) and ``Transcriber``
(speech to text) extension points, their built-in implementations, and the service that the
``/api/v1/speech`` routes use (docs/accessibility.md)."""
