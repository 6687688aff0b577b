"""The command line: one module per command group, sharing `context.AppContext`."""
