"""stockplan: a command-line replenishment planner."""

__version__ = "0.1.0"
