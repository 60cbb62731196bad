"""The click that typer runs on: newer typer releases vendor it as ``typer._click``, older ones depend on click."""

try:
    from typer import _click as click
except ImportError:  # typer < 0.2x depends on the click package
    import click  # type: ignore[no-redef]

__all__ = ["click"]
