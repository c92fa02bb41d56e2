"""What the time-zone check of `hours NAME in "ZONE"` costs: loading one zone (what `flowc check` does for a
valid zone) against listing every zone (what it does only to suggest a name for an unknown one), each in a
fresh interpreter, and the cold `flowc check` of a file with and without business hours.

    .venv/bin/python benchmarks/bench_zones.py [--repeat 21]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Timed inside a fresh interpreter (its own clock, so the interpreter's start-up is not counted).
PROBE = """import time
t0 = time.perf_counter(); import zoneinfo; t1 = time.perf_counter()
zoneinfo.ZoneInfo('America/New_York'); t2 = time.perf_counter()
zoneinfo.available_timezones(); t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""
STEPS = ("import zoneinfo", "ZoneInfo('America/New_York')", "available_timezones()")
HOURS = ('hours office in "America/New_York" {\n    monday to friday 9:00 to 17:00\n}\n\n'
         'flow main on initiate {\n    when office open {\n        say "Open."\n    }\n    otherwise {\n'
         '        say "Closed."\n    }\n}\n')
PLAIN = 'flow main on initiate {\n    say "Open."\n}\n'


def cold(arguments: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(arguments, check=False, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=21)
    repeat = parser.parse_args().repeat
    runs = [subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True).stdout.split()
            for _ in range(repeat)]
    for index, name in enumerate(STEPS):
        print(f"{name:40} {statistics.median(float(r[index]) for r in runs) * 1000:7.2f} ms")
    print(f"{'python -c pass (cold)':40} {cold([sys.executable, '-c', 'pass'], repeat):7.1f} ms")
    cases = (("plain", PLAIN), ("hours", HOURS), ("hours, unknown zone", HOURS.replace("New_York", "NewYork")))
    with tempfile.TemporaryDirectory() as directory:
        for name, text in cases:
            path = Path(directory) / f"{name.split(',')[0]}.flow"
            path.write_text(text)
            elapsed = cold([sys.executable, "-m", "flowc", "check", str(path)], repeat)
            print(f"{'flowc check, ' + name:40} {elapsed:7.1f} ms")


if __name__ == "__main__":
    main()
