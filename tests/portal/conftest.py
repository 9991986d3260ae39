from collections.abc import Iterator

import pytest

from tests.browser import chromium
from tests.processes import free_port, running, script


@pytest.fixture(scope="session")
def portal_url(tmp_path_factory) -> Iterator[str]:
    """The real ``portal`` command on the embedded defaults, on a free port."""
    folder = tmp_path_factory.mktemp("portal")
    port = free_port()
    env = {
        "GATEWAY_STATE__DATABASE_URL": f"sqlite:///{folder / 'state.db'}",
        "TEST_LOG_DIR": str(folder),
    }
    with running([script("portal"), "--port", str(port)], port, env) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    # Per module: Playwright's synchronous API keeps an event loop running in this thread
    # while the browser is open, which would break the async tests of later modules.
    with chromium() as browser:
        yield browser
