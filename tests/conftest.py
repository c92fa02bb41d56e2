"""Shared pytest configuration."""

import pytest


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the expected files in tests/golden from the current compiler output")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")
