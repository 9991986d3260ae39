from collections.abc import Iterator

import pytest

from tests.browser import chromium
from tests.processes import free_port, running, script


def run_portal(tmp_path_factory, timeout: float = 60.0, **settings: str) -> Iterator[str]:
    """The real ``portal`` command on a free port, with ``GATEWAY_*`` settings; ``timeout``:
    seconds it may take to be ready."""
    folder = tmp_path_factory.mktemp("portal")
    port = free_port()
    env = {
        "GATEWAY_STATE__DATABASE_URL": f"sqlite:///{folder / 'state.db'}",
        "TEST_LOG_DIR": str(folder),
        # Every browser of these suites is one resident at 127.0.0.1, asking far more often
        # than the default per-address limit allows a real one.
        "GATEWAY_LIMITS__PER_IP": "10000/minute",
        **settings,
    }
    with running([script("portal"), "--port", str(port)], port, env, timeout=timeout) as url:
        yield url


@pytest.fixture(scope="session")
def portal_url(tmp_path_factory) -> Iterator[str]:
    """The real ``portal`` command on the embedded defaults, on a free port."""
    yield from run_portal(tmp_path_factory)


STREAMED_ANSWER = (
    "**Residence permit**: apply at the local police station (派出所) with your passport "
    "and proof of address. " * 3
)


@pytest.fixture(scope="session")
def streaming_portal_url(tmp_path_factory) -> Iterator[str]:
    """The portal in front of a back end that streams its answer slowly, in small pieces."""
    yield from run_portal(
        tmp_path_factory,
        GATEWAY_BACKENDS='[{name = "slow", type = "static", answer = "'
        + STREAMED_ANSWER.replace('"', '\\"')
        + '", chunk_chars = 12, chunk_delay = 0.08, citations = [{title = "Guide", '
        'url = "https://zwfw.example.org/guide"}]}]',
        GATEWAY_ROUTES='[{match = "*", backends = ["slow"]}]',
    )


@pytest.fixture(scope="module")
def browser():
    # Per module: Playwright's sync API holds an event loop while it is open, which the
    # async tests of later modules (anyio) could not run beside.
    with chromium() as browser:
        yield browser
