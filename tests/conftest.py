"""Shared pytest configuration."""

import pytest


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the expected files in tests/golden from the current compiler output")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server on a free loopback port for the whole run (tools/install-test-deps.sh installs it),
    stopped at the end; tests share it and clear what they wrote (store.clear())."""
    from redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except FileNotFoundError:
        pytest.fail("redis-server is not installed: run tools/install-test-deps.sh")
    yield server.url
    server.stop()
