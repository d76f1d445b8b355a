"""Binding the listening socket first: a busy port is a clear error naming ``--port``."""

from __future__ import annotations

import pytest

from gateway.errors import ConfigurationError
from gateway.server import bind_listener


def test_a_port_in_use_is_refused_with_the_option_to_change_it() -> None:
    first = bind_listener("127.0.0.1", 0)
    try:
        port = int(first.getsockname()[1])
        with pytest.raises(ConfigurationError) as refused:
            bind_listener("127.0.0.1", port)
        assert refused.value.field == "port"
        assert "--port" in str(refused.value)
        assert f"PORT={port + 1}" in str(refused.value)
    finally:
        first.close()
    bind_listener("127.0.0.1", port).close()  # free again once the first one is gone
