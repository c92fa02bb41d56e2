"""The `bandwidth` pytest fixture (registered through the `pytest11` entry point when flowc[sim] is installed).

    def test_menu(bandwidth):
        bw = bandwidth("build/out")            # or bandwidth(url="http://127.0.0.1:8000"); Bandwidth's options
        call = bw.inbound("main")
        call.press("1")

Calling the fixture starts an emulator (several, for several OUT directories, if a test wants). Used directly
(`bandwidth.inbound("main")`), it is the emulator of the OUT directory named by `--flowc-out OUT`, the
`flowc_out` ini option or the FLOWC_OUT environment variable, started on first use (or the one emulator the
test already started). Every emulator is closed when the test ends; a failing test's report shows its
timeline.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flowc.sim import Bandwidth


CALL_REPORT = pytest.StashKey[pytest.TestReport]()  # the test's own report, for the fixture's teardown


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--flowc-out", default=None,
                     help="flowc.sim: the OUT directory the `bandwidth` fixture emulates")
    parser.addini("flowc_out", "flowc.sim: the OUT directory the `bandwidth` fixture emulates", default="")


class BandwidthFixture:
    def __init__(self, default_out: str | None) -> None:
        self.default_out = default_out
        self.started: list[Bandwidth] = []

    def __call__(self, out: str | os.PathLike[str] | None = None, **options: Any) -> Bandwidth:
        from flowc.sim import Bandwidth

        emulator = Bandwidth(out, **options)
        self.started.append(emulator)
        return emulator

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if not self.started:
            if not self.default_out:
                raise RuntimeError("the bandwidth fixture needs an OUT directory: call bandwidth(OUT) first, or "
                                   "set --flowc-out, the flowc_out ini option or FLOWC_OUT")
            self(self.default_out)
        return getattr(self.started[0], name)

    def close(self, failed: bool) -> None:
        for emulator in self.started:
            if failed:
                print(f"\n--- flowc.sim timeline ---\n{emulator.timeline()}")
            emulator.close()


@pytest.fixture
def bandwidth(request: pytest.FixtureRequest) -> Iterator[BandwidthFixture]:
    config = request.config
    default = config.getoption("--flowc-out") or config.getini("flowc_out") or os.environ.get("FLOWC_OUT")
    fixture = BandwidthFixture(default or None)
    yield fixture
    report = request.node.stash.get(CALL_REPORT, None)
    fixture.close(bool(report is not None and report.failed))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[CALL_REPORT] = report
