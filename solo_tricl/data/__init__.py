"""Offline datasets: readers for the real datasets that ship with Debian or PyPI packages."""
