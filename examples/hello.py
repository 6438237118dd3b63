"""The smallest app: a worker with no agents yet, for trying `strm worker`."""

import strm

app = strm.App("hello")
