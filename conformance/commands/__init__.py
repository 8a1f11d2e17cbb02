"""The subcommands of the CLI, one module each.

Every module has ``register(commands)``, which adds its parser and sets ``handler`` to a
function ``(args) -> int`` returning the exit code. :mod:`conformance.cli` lists them.
"""
