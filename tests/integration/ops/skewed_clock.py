"""Run a module (as `python -m <module> ...` would) with this process's clock shifted by a number of seconds, as a
worker on a machine whose NTP stopped: `python -m tests.integration.ops.skewed_clock 60 celery --app config worker`."""

import runpy
import sys
from datetime import UTC, datetime, timedelta

import time_machine

if __name__ == "__main__":
    offset, module, *arguments = sys.argv[1:]
    time_machine.travel(datetime.now(UTC) + timedelta(seconds=float(offset)), tick=True).start()
    sys.argv = [module, *arguments]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
