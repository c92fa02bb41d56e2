"""flowc.sim.console: `flowc sim OUT --ui`, a page in the browser over the emulator.

Place inbound calls to OUT's flows (or paths on a server given by URL), hear what each call hears, press its
keys on a dial pad, watch and steer conferences (members, who hears whom, the held members waiting in the
lobby, mute, hold, coach, ending), read every webhook and REST request, see a call's sequence diagram, and
drive the virtual clock. Modules: server (the Starlette app, its guard and `serve`), state (the snapshot the
page renders); static/ holds the page itself, shipped as package data (nothing is fetched from the internet).
"""

from flowc.sim.console.server import Console, ConsoleError, create_app, serve

__all__ = ["Console", "ConsoleError", "create_app", "serve"]
