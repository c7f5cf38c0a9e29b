"""Stands in for the ``__main__`` module in process-pool workers (see ``process.py``)."""
