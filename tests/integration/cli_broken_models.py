"""A models module whose import fails (as one starting an embedded server already running would):
the CLI must say so in one line, with exit code 2."""

raise RuntimeError("the server at /tmp/data is already running")
