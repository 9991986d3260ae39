"""The embedded speaker: eSpeak NG (Debian package ``espeak-ng``), run as a subprocess.

It ships voices for Mandarin and Cantonese and most of the portal's UI languages, needs no
network and no model download, and answers in a fraction of a second. Its voices sound
synthetic, but they speak where the resident's browser has no voice at all.
"""

from __future__ import annotations

import asyncio
import shutil

from pydantic import Field

from gateway.speech.base import Audio, Options, Speaker, SpeechError

#: UI locale → eSpeak NG voice. Lao has no eSpeak voice (the portal then says so).
VOICES = {
    "zh-CN": "cmn",
    "zh-HK": "yue",
    "en": "en-us",
    "ko": "ko",
    "ja": "ja",
    "vi": "vi",
    "th": "th",
    "ru": "ru",
    "fr": "fr-fr",
    "es": "es",
    "ar": "ar",
    "id": "id",
    "ms": "ms",
}


class EspeakOptions(Options):
    #: The program (a path, or a name looked up on PATH).
    program: str = "espeak-ng"
    #: Words per minute at normal speed (the portal's speeds change the playback rate).
    words_per_minute: int = Field(150, ge=80, le=450)
    #: Locale → voice, added to (and overriding) the built-in table.
    voices: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(20.0, gt=0)


class EspeakSpeaker(Speaker):
    name = "espeak"
    Options = EspeakOptions
    options: EspeakOptions

    def __init__(self, options: EspeakOptions) -> None:
        super().__init__(options)
        self._voices: dict[str, str] = {}

    async def startup(self) -> None:
        program = shutil.which(self.options.program)
        if program is None:
            raise SpeechError(
                f"{self.options.program} is not installed (Debian: apt-get install espeak-ng)"
            )
        self._program = program
        listed = (await self._run("--voices")).decode("utf-8", "replace")
        # Second column of `espeak-ng --voices`: the voice's language code.
        installed = {line.split()[1] for line in listed.splitlines()[1:] if len(line.split()) > 1}
        wanted = {**VOICES, **self.options.voices}
        self._voices = {locale: voice for locale, voice in wanted.items() if voice in installed}

    def languages(self) -> list[str]:
        return sorted(self._voices)

    async def speak(self, text: str, language: str) -> Audio:
        voice = self._voices.get(language) or self._voices.get(language.split("-")[0])
        if voice is None:
            raise SpeechError(f"espeak-ng has no voice for {language}")
        # The text goes on stdin: never a command-line argument that could look like an option.
        wav = await self._run(
            "-v", voice, "-s", str(self.options.words_per_minute), "--stdin", "--stdout",
            stdin=text.encode("utf-8"),
        )  # fmt: skip
        if not wav.startswith(b"RIFF"):
            raise SpeechError("espeak-ng did not write WAV audio")
        return Audio(wav, "audio/wav")

    async def _run(self, *arguments: str, stdin: bytes | None = None) -> bytes:
        process = await asyncio.create_subprocess_exec(
            getattr(self, "_program", self.options.program),
            *arguments,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(stdin), self.options.timeout)
        except TimeoutError as exc:
            process.kill()
            await process.wait()
            raise SpeechError("espeak-ng took too long") from exc
        if process.returncode != 0:
            raise SpeechError(f"espeak-ng failed: {err.decode('utf-8', 'replace')[:200]}")
        return out
