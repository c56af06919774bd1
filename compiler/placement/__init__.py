"""Placement: choose a site and pool for every stage instance and service,
predict start, finish and cost, and say why (see place.py)."""

from .errors import PlacementError
from .pictures import dag_svg, gantt_svg, mermaid
from .place import place
from .table import render_table

__all__ = ["PlacementError", "dag_svg", "gantt_svg", "mermaid", "place", "render_table"]
