"""A streamed answer brought into the resident's language a line at a time, as it arrives.

Machine translation reads whole sentences, so nothing is translated until a line of the answer
is complete (its newline has arrived). Each line is one piece for the translation service
(gateway/translation/markdown.py), translated and cached on its own, with the glossary's
placeholders numbered from the first line on — so when the whole answer is translated at the
end (``TranslationService.localize``, which also does the titles, suggestions and notices) the
lines already shown come from the cache unchanged, and only the rest is new. Should the end
differ from what was shown (the back end replaced its text, or translating failed), the
resident gets one ``replace`` with the whole answer.

Translation runs beside the back end's stream, never in its way: while a batch of lines is being
translated the back end's next pieces keep arriving (its deadlines count from the question, so
waiting for a slow engine here must not make it time out), and the next batch starts when this
one is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from gateway.backends.base import Delta, Replace
from gateway.translation.base import TranslationError

if TYPE_CHECKING:
    from gateway.translation.service import TranslationService

log = logging.getLogger("gateway.translation")

#: What the chat flow sends on to the resident.
Piece = Delta | Replace


class StreamedTranslation:
    def __init__(self, service: TranslationService, source: str, target: str) -> None:
        self.service = service
        self.source = source
        self.target = target
        #: The answer so far, as the back end wrote it.
        self.text = ""
        #: What the resident has been sent so far.
        self.sent = ""
        self._asked = ""
        self._task: asyncio.Task[str] | None = None
        self._failed = False

    def feed(self, event: Piece) -> list[Piece]:
        """Take the back end's (reviewed) next piece; returns what can be sent now."""
        self.text = self.text + event.text if isinstance(event, Delta) else event.text
        return self.ready()

    def ready(self) -> list[Piece]:
        """The translation that has come back since last time, if any; starts the next."""
        pieces: list[Piece] = []
        if self._task is not None and self._task.done():
            task, self._task = self._task, None
            try:
                pieces = self._send(task.result())
            except TranslationError as exc:
                # The answer is translated whole at the end, or shown with a note if that
                # fails too; no point in asking line by line again.
                log.info("streamed lines not translated: %s", exc)
                self._failed = True
        complete = self.text[: self.text.rfind("\n") + 1]
        if complete and complete != self._asked and self._task is None and not self._failed:
            self._asked = complete
            self._task = asyncio.ensure_future(self._translate(complete))
        return pieces

    def finish(self, answer: str) -> list[Piece]:
        """The whole answer, as it will be shown for good: the rest of it, or a ``replace``."""
        self.close()
        return self._send(answer)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TranslationError):
                # Retrieve a finished task's outcome, so that it is not reported as lost.
                if self._task.done():
                    self._task.result()
            self._task = None

    async def _translate(self, text: str) -> str:
        return (await self.service.translate([text], self.source, self.target))[0]

    def _send(self, text: str) -> list[Piece]:
        if text == self.sent:
            return []
        if text.startswith(self.sent):
            piece: Piece = Delta(text[len(self.sent) :])
        else:
            piece = Replace(text)
        self.sent = text
        return [piece]
