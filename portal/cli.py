"""``portal``: the portal with the gateway in the same process (the embedded default), or the
portal alone in front of a gateway elsewhere (``--gateway-url``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from gateway.cli import UVICORN_LOGGING, add_server_options, settings_from, start_logging

_LOOPBACK = {"0.0.0.0", "::", "", "localhost", "127.0.0.1", "::1"}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="portal", description="The residents' portal of the government services assistant."
    )
    add_server_options(parser, "portal.port, 7860")
    parser.add_argument(
        "--gateway-url", help="use the gateway at this URL instead of running one in process"
    )
    args = parser.parse_args(argv)

    import uvicorn

    from portal.app import create_app

    settings = settings_from(args)
    start_logging(settings, args)
    host = args.host or settings.server.host
    port = args.port or settings.portal.port
    gateway_url = args.gateway_url or settings.portal.gateway_url
    own_host = "127.0.0.1" if host in _LOOPBACK else host
    app = create_app(settings, gateway_url=gateway_url, self_url=f"http://{own_host}:{port}")
    print(f"Portal: http://{own_host}:{port}/", flush=True)
    uvicorn.run(app, host=host, port=port, **UVICORN_LOGGING)


if __name__ == "__main__":
    main()
