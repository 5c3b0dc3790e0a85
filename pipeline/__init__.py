"""paperboy: daily research-paper digest pages to per-topic feeds and email digests.

Importing the package does no work; see ``pipeline.cli`` for the command line.
"""

__version__ = "0.1.0"
