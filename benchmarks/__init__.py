"""Benchmarks of limpyd_typed beside hand-written redis-py and Lua floors and peer libraries.

``python -m benchmarks [--quick] [--out results/]``; see ``benchmarks.cli``.
"""
