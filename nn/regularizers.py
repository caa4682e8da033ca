"""(being written: see issue 4)."""

__all__: list[str] = []
