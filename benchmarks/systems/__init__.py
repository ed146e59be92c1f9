"""The systems benchmarked: ours, two floors written by hand, and the peer libraries."""

from __future__ import annotations

import importlib

from ..common import System

# name -> (module, the package a peer needs, None for ours and the floors)
SYSTEMS: dict[str, tuple[str, str | None]] = {
    "redis-py (raw)": ("raw_redis", None),
    "Lua (raw)": ("lua_floor", None),
    "limpyd_typed": ("typed", None),
    "redis-limpyd 2.1.2": ("redis_limpyd", "limpyd"),
    "rom": ("rom_peer", "rom"),
    "walrus": ("walrus_peer", "walrus"),
}
RAW = "redis-py (raw)"
LUA = "Lua (raw)"
OURS = "limpyd_typed"
ROM = "rom"


def load(name: str) -> System:
    module_name, _ = SYSTEMS[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    system: System = module.make()
    return system
