"""Distributed Task Observatory: a job-processing system whose every step can be seen."""

from observatory.__about__ import __version__

__all__ = ["__version__"]
