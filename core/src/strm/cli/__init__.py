"""The ``strm`` command line.

``option`` and ``argument`` (click's) declare the options of ``@app.command`` functions;
:func:`call_command` runs a command in tests.
"""

from click import argument, option

from strm.cli.app_commands import AppCommand, Command, call_command

__all__ = ["AppCommand", "Command", "argument", "call_command", "option"]
