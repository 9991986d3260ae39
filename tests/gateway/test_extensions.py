"""The one extension factory: built-ins and plugins found the same way, checked the same way."""

from __future__ import annotations

import pytest

from gateway import extensions
from gateway.backends.base import Backend
from gateway.config import ConfigError, HttpConfig, KnowledgeConfig, Settings, SpeechConfig
from gateway.knowledge import embedding
from gateway.knowledge.embedding import Embedder
from gateway.services import Services
from gateway.speech.base import Speaker, Transcriber
from gateway.speech.service import SpeechService
from gateway.state.sessions import SessionStore
from gateway.translation.base import Translator
from gateway.understanding.base import Stage

BASES = {
    "gateway.backends": Backend,
    "gateway.stages": Stage,
    "gateway.sessions": SessionStore,
    "gateway.translators": Translator,
    "gateway.embedders": Embedder,
    "gateway.speakers": Speaker,
    "gateway.transcribers": Transcriber,
}


class NotAStage:
    """A plugin registered under the wrong group."""


@pytest.fixture
def plugin(monkeypatch):
    """Register ``tests.gateway.test_extensions:NotAStage`` as ``wrong`` in every group, as a
    third-party package's entry point would."""
    builtins = {group: dict(names) for group, names in extensions.BUILTINS.items()}
    for names in builtins.values():
        names["wrong"] = f"{__name__}:NotAStage"
    monkeypatch.setattr(extensions, "BUILTINS", builtins)
    extensions.load.cache_clear()
    yield
    extensions.load.cache_clear()


def test_every_builtin_is_a_subclass_of_its_groups_base():
    assert set(extensions.BUILTINS) == set(BASES)
    for group, names in extensions.BUILTINS.items():
        for name in names:
            assert issubclass(extensions.load(group, name), BASES[group]), (group, name)


def test_a_plugin_of_the_wrong_class_is_a_clear_start_up_error(plugin):
    with pytest.raises(ConfigError, match=r"'wrong' \(tests\.gateway\.test_extensions:NotAStage"):
        extensions.create("gateway.backends", "wrong", Backend, {}, None, name="x")
    from gateway.chat import ChatService

    with pytest.raises(ConfigError, match=r"is not a subclass of gateway\.backends\.base\.Backend"):
        ChatService.from_settings(
            Settings.model_validate(
                {"backends": [{"name": "x", "type": "wrong"}], "routes": [{"backends": ["x"]}]}
            )
        )


def _embedder(name: str) -> object:
    return embedding.create(KnowledgeConfig(embedder=name))


def _speaker(name: str) -> object:
    return SpeechService.from_settings(SpeechConfig(speaker=name), HttpConfig())


def _transcriber(name: str) -> object:
    return SpeechService.from_settings(SpeechConfig(transcriber=name), HttpConfig())


@pytest.mark.parametrize(
    ("make", "base"),
    [
        (_embedder, "gateway.knowledge.embedding.Embedder"),
        (_speaker, "gateway.speech.base.Speaker"),
        (_transcriber, "gateway.speech.base.Transcriber"),
    ],
)
def test_an_embedder_speaker_or_transcriber_of_the_wrong_class_is_refused_at_start(
    plugin, make, base
):
    """Made the way the gateway makes them at start-up, through the one factory."""
    with pytest.raises(ConfigError, match=rf"'wrong' .* is not a subclass of {base}"):
        make("wrong")


def test_embedder_and_speech_options_are_checked_by_the_factory():
    knowledge = KnowledgeConfig(embedder="openai", embedder_options={"openai": {"bogus": 1}})
    with pytest.raises(ConfigError, match=r"embedder 'openai': .*bogus: Extra inputs"):
        embedding.create(knowledge)
    speech = SpeechConfig(speaker="espeak", speaker_options={"bogus": 1})
    with pytest.raises(ConfigError, match=r"speech 'espeak': bogus: Extra inputs"):
        SpeechService.from_settings(speech, HttpConfig())


def test_options_are_checked_by_the_implementation_and_named_in_the_error():
    with pytest.raises(ConfigError, match=r"understanding stage 'sanitize': bogus: Extra inputs"):
        extensions.create(
            "gateway.stages",
            "sanitize",
            Stage,
            {"bogus": 1},
            None,
            label="understanding stage 'sanitize'",
        )
    stage = extensions.create("gateway.stages", "sanitize", Stage, None, None)
    assert isinstance(stage, Stage) and stage.name == "sanitize"


def test_a_redis_session_store_without_redis_is_refused():
    with pytest.raises(ConfigError, match=r"needs \[redis\] url"):
        extensions.create("gateway.sessions", "redis", SessionStore, {}, Services(Settings()))
