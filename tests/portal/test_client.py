import httpx
import pytest

from gateway.app import create_app
from portal.client import GatewayClient, GatewayUnavailable
from tests.conftest import started

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gateway(settings):
    async for client in started(create_app(settings)):
        yield GatewayClient(client=client)


async def test_ask_hot_and_feedback(gateway):
    reply = await gateway.ask("居住证怎么办理", lang="zh-CN")
    assert reply["found"] and reply["citations"]
    assert await gateway.hot("en")
    assert "Thank" in await gateway.feedback(reply["message_id"], True, lang="en")


async def test_stream_yields_the_gateways_events(gateway):
    events = [event async for event in gateway.stream("居住证怎么办理", lang="zh-CN")]
    assert events[0][0] == "delta" and events[-1][0] == "done"


async def test_errors_carry_the_gateways_localized_message(gateway):
    with pytest.raises(GatewayUnavailable) as caught:
        await gateway.ask("", lang="en")
    assert (
        caught.value.code == "empty_message"
        and caught.value.message == "Please type your question."
    )
    with pytest.raises(GatewayUnavailable) as caught:
        _ = [event async for event in gateway.stream("", lang="en")]
    assert caught.value.status == 422


async def test_an_unreachable_gateway_is_reported_not_raised_raw():
    client = GatewayClient("http://127.0.0.1:9")
    with pytest.raises(GatewayUnavailable) as caught:
        await client.ask("问", lang="zh-CN")
    assert caught.value.code == "unreachable"
    await client.aclose()
    assert isinstance(caught.value, Exception) and not isinstance(caught.value, httpx.HTTPError)
