"""A timer and crontabs, each printing what it does.

    uv run strm -A examples.timers worker

The timer ticks every two seconds. The crontabs fire on whole minutes of the wall clock: one
every minute, in the app's ``timezone`` setting (Europe/Oslo here), and one at 09:00 on weekdays
in New York. ``uv run strm -A examples.timers next-runs`` shows when each crontab runs next.
"""

from datetime import datetime

import strm
from strm.runtime.timers import Crontab

app = strm.App("timers-example", timezone="Europe/Oslo")


@app.timer(2.0)
async def every_two_seconds() -> None:
    print(f"timer: tick at {datetime.now():%H:%M:%S}", flush=True)


@app.crontab("* * * * *")
async def every_minute(app: strm.App) -> None:
    now = datetime.now(app.conf.timezone)
    print(f"crontab '* * * * *': a new minute in {app.conf.timezone}: {now:%H:%M}", flush=True)


@app.crontab("0 9 * * mon-fri", timezone="America/New_York")
async def new_york_morning() -> None:
    print("crontab '0 9 * * mon-fri': good morning, New York", flush=True)


@app.command()
async def next_runs(self: strm.cli.AppCommand) -> None:
    """Show when each crontab runs next."""
    for job in app.background.jobs:
        if isinstance(job, Crontab):
            self.say(f"{job.name}: {job.schedule.expression!r} next at {job.next_time()}")


if __name__ == "__main__":
    app.main()
