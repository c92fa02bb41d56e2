"""Shared pytest configuration."""

import itertools
from pathlib import Path

import pytest


def pytest_xdist_auto_num_workers(config):
    """`-n auto` (pyproject's addopts) spreads the suite, or a folder of it, over the cores; a run of named test
    files or tests, what a developer runs while working, stays in this one process (workers take seconds to
    start and hide print()/pdb)."""
    if any(Path(arg.split("::")[0]).is_file() for arg in config.args):
        return 0
    return None


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


@pytest.fixture(scope="session")
def store_directory(tmp_path_factory):
    return tmp_path_factory.mktemp("stores")


STORE_NUMBERS = itertools.count()


@pytest.fixture(autouse=True)
def own_default_store(monkeypatch, store_directory):
    """Every test's apps get a SQLite store of their own unless the test sets FLOWC_STORE (or deletes it to test
    the default): without FLOWC_STORE an app opens ./flowc-state.sqlite, which would litter the checkout, carry
    state from one test to the next, and be refused (the store's one-worker lock) to a second pytest worker."""
    monkeypatch.setenv("FLOWC_STORE", f"sqlite://{store_directory}/{next(STORE_NUMBERS)}.sqlite")


@pytest.fixture
def app_secrets(monkeypatch):
    """The examples' secrets in the environment (sim_helpers.SECRETS) and no FLOWC_HOOKS, as the web app's tests
    expect: `pytestmark = pytest.mark.usefixtures("app_secrets")`."""
    from sim_helpers import SECRETS

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FLOWC_HOOKS", raising=False)
