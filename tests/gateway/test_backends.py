"""The back-end contract and registry, including third-party back ends from entry points."""

import textwrap
from pathlib import Path

import pytest

from gateway import backends, extensions
from gateway.backends.base import Answer, Backend, BackendError, Delta, Done, Query
from gateway.config import BackendConfig, ConfigError, Settings
from gateway.services import Services

pytestmark = pytest.mark.anyio


class OnlyAsks(Backend):
    type = "only-asks"

    async def ask(self, query: Query) -> Answer:
        return Answer(text=f"答：{query.text}")


class OnlyStreams(Backend):
    type = "only-streams"

    async def stream(self, query: Query):
        yield Delta("一")
        yield Delta("二")
        yield Done(Answer(text="一二"))


class StreamsNothing(Backend):
    type = "streams-nothing"

    async def stream(self, query: Query):
        yield Delta("半")


def make(cls: type[Backend]) -> Backend:
    return cls("b", cls.Options(), Services(Settings()))


async def test_stream_defaults_to_ask():
    events = [e async for e in make(OnlyAsks).stream(Query(text="问"))]
    assert events == [Delta("答：问"), Done(Answer(text="答：问"))]


async def test_ask_defaults_to_stream():
    assert (await make(OnlyStreams).ask(Query(text="问"))).text == "一二"


async def test_a_stream_without_done_is_a_backend_error():
    with pytest.raises(BackendError):
        await make(StreamsNothing).ask(Query(text="问"))


def test_a_backend_must_implement_ask_or_stream():
    with pytest.raises(TypeError, match="ask\\(\\) or stream\\(\\)"):

        class Neither(Backend):
            type = "neither"


def test_builtin_types_are_found_and_options_checked():
    services = Services(Settings())
    backend = backends.create(BackendConfig(name="s", type="static", answer="好"), services)
    assert backend.name == "s" and backend.options.answer == "好"
    with pytest.raises(ConfigError, match="'s' \\(static\\): answer"):
        backends.create(BackendConfig(name="s", type="static", answer=["x"]), services)
    with pytest.raises(ConfigError, match=r"no gateway\.backends named 'nope'"):
        backends.create(BackendConfig(name="n", type="nope"), services)


@pytest.fixture
def third_party_package(tmp_path: Path, monkeypatch):
    """A real installed distribution on sys.path declaring a gateway.backends entry point."""
    (tmp_path / "mycorp_backend.py").write_text(
        textwrap.dedent(
            """
            from gateway.backends.base import Answer, Backend

            class MyCorp(Backend):
                type = "mycorp"

                async def ask(self, query):
                    return Answer(text="mycorp: " + query.text)
            """
        )
    )
    dist = tmp_path / "mycorp_backend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mycorp-backend\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[gateway.backends]\nmycorp = mycorp_backend:MyCorp\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    extensions.load.cache_clear()
    yield
    extensions.load.cache_clear()


async def test_third_party_backends_are_found_through_entry_points(third_party_package, serve_app):
    assert "mycorp" in extensions.names("gateway.backends")
    toml = '[[backends]]\nname = "corp"\ntype = "mycorp"\n[[routes]]\nbackends = ["corp"]\n'
    async with serve_app(toml) as client:
        reply = (await client.post("/api/v1/chat", json={"message": "你好"})).json()
    assert reply["answer"] == "mycorp: 你好" and reply["backend"] == "corp"


def test_a_route_naming_an_unknown_backend_is_a_config_error(make_settings):
    from gateway.chat import ChatService

    with pytest.raises(ConfigError, match="names no configured back end 'ghost'"):
        ChatService.from_settings(make_settings('[[routes]]\nbackends = ["ghost"]\n'))


def test_a_reply_orjson_refuses_is_read_as_python_reads_it():
    from gateway.backends.openai import OpenAIBackend

    backend = OpenAIBackend(
        "b", OpenAIBackend.Options(base_url="http://127.0.0.1:9", model="m"), Services(Settings())
    )
    # NaN, a lone surrogate's escape and an integer beyond 64 bits: JSON as engines write it
    # that orjson refuses.
    reply = backend.parse_json(b'{"score": NaN, "text": "\\ud800", "id": 123456789012345678901}')
    assert reply["score"] != reply["score"] and reply["text"] == "\ud800"
    assert reply["id"] == 123456789012345678901
    with pytest.raises(BackendError, match="malformed JSON"):
        backend.parse_json(b'{"text": ')
