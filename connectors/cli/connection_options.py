"""The options naming the connector's OAuth client: gateway URL, client id, key store.

They live apart from :mod:`connectors.cli.gateway_options` (which re-exports them) so that
``hash`` can take them for ``--mode voprf`` — evaluator tokens come from the gateway's
token endpoint — without importing the exchange commands' helpers, which import ``hash``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

GatewayUrl = Annotated[
    str,
    typer.Option("--gateway", envvar="PPSGATE_CONNECTOR_GATEWAY", help="Gateway base URL."),
]
ClientId = Annotated[
    str,
    typer.Option(
        "--client-id",
        envvar="PPSGATE_CONNECTOR_CLIENT_ID",
        help="OAuth client id registered for this connector.",
    ),
]
KeystorePath = Annotated[
    Path,
    typer.Option(
        "--keystore", envvar="PPSGATE_CONNECTOR_KEYSTORE", help="Key store made by `keys init`."
    ),
]
Passphrase = Annotated[
    str | None,
    typer.Option(
        "--passphrase",
        envvar="PPSGATE_CONNECTOR_PASSPHRASE",
        hidden=True,
        help="Key store passphrase (prefer the environment variable).",
    ),
]

DEFAULT_GATEWAY = "http://127.0.0.1:8000"
DEFAULT_KEYSTORE = Path("connector-keystore.json")
