"""A settings hook module that fails as it is imported (a bad import of its own, say)."""

raise RuntimeError("this hook module fails as it is imported")
