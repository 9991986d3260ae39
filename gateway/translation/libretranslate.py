"""A LibreTranslate server: argos models shared by every gateway worker over HTTP.

``POST /translate {q, source, target, format, api_key}`` translates a text or a list of them;
``GET /languages`` lists the codes and, for each, its target codes. Servers name Chinese ``zh``
or, in newer releases, ``zh-Hans``; the engine reads ``/languages`` once to know which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from gateway.translation import http
from gateway.translation.base import TranslationError

#: Codes a server may use for each gateway code, most likely first.
_SERVER_CODES = {
    "zh": ("zh", "zh-Hans", "zh-CN"),
    "zh-Hant": ("zt", "zh-Hant", "zh-TW"),
}


class LibreTranslateOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The server's address, e.g. ``http://127.0.0.1:5000``.
    url: str
    #: Name of the environment variable holding the API key, when the server requires one.
    api_key_env: str = ""
    #: Seconds to wait for one reply.
    timeout: float = Field(15.0, gt=0)
    #: Texts sent in one request (the server's ``--batch-limit``).
    batch_size: int = Field(16, ge=1)


class LibreTranslateTranslator(http.HttpTranslator):
    name = "libretranslate"
    Options = LibreTranslateOptions
    options: LibreTranslateOptions
    _targets: dict[str, set[str]] | None = None

    def _url(self, path: str) -> str:
        return self.options.url.rstrip("/") + path

    async def languages(self) -> dict[str, set[str]]:
        """Source code → target codes, as the server lists them (read once)."""
        if self._targets is None:
            body = await http.request_json(self.http, "GET", self._url("/languages"), self.name)
            if not isinstance(body, list):
                raise TranslationError(f"{self.name}: /languages did not answer a list")
            self._targets = {
                str(item["code"]): {str(code) for code in item.get("targets", [])}
                for item in body
                if isinstance(item, dict) and "code" in item
            }
        return self._targets

    async def _code(self, language: str) -> str | None:
        available = await self.languages()
        for code in _SERVER_CODES.get(language, (language,)):
            if code in available:
                return code
        return None

    async def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        glossary: Mapping[str, str] | None = None,
    ) -> list[str]:
        source_code, target_code = await self._code(source), await self._code(target)
        if source_code is None or target_code is None:
            raise TranslationError(
                f"{self.name}: the server does not offer {source} → {target}", unsupported=True
            )
        targets = (await self.languages()).get(source_code, set())
        if targets and target_code not in targets:
            raise TranslationError(
                f"{self.name}: the server does not offer {source} → {target}", unsupported=True
            )
        key = http.secret(self.options.api_key_env)
        results: list[str] = []
        size = self.options.batch_size
        for start in range(0, len(texts), size):
            batch = list(texts[start : start + size])
            body: dict[str, object] = {
                "q": batch,
                "source": source_code,
                "target": target_code,
                "format": "text",
            }
            if key:
                body["api_key"] = key
            reply = await http.request_json(
                self.http, "POST", self._url("/translate"), self.name, json=body
            )
            translated = reply.get("translatedText") if isinstance(reply, dict) else None
            if isinstance(translated, str):
                translated = [translated]
            if not isinstance(translated, list) or len(translated) != len(batch):
                raise TranslationError(f"{self.name}: /translate answered {str(reply)[:200]}")
            results.extend(str(text) for text in translated)
        return results
