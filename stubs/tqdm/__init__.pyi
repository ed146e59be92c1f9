# Minimal stub of tqdm (no py.typed marker): the progress bar the main job uses.
from collections.abc import Iterable, Iterator
from typing import Generic, TextIO, TypeVar

from typing_extensions import Self

__version__: str

_T = TypeVar("_T")

class tqdm(Generic[_T]):
    n: float
    total: float | None
    def __init__(
        self,
        iterable: Iterable[_T] | None = None,
        desc: str | None = None,
        total: float | None = None,
        leave: bool | None = True,
        file: TextIO | None = None,
        ncols: int | None = None,
        mininterval: float = 0.1,
        maxinterval: float = 10.0,
        miniters: float | None = None,
        ascii: bool | str | None = None,
        disable: bool | None = False,
        unit: str = "it",
        unit_scale: bool | float = False,
        dynamic_ncols: bool = False,
        smoothing: float = 0.3,
        bar_format: str | None = None,
        initial: float = 0,
        position: int | None = None,
        postfix: str | None = None,
        unit_divisor: float = 1000,
    ) -> None: ...
    def __iter__(self) -> Iterator[_T]: ...
    def __len__(self) -> int: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def update(self, n: float | None = 1) -> bool | None: ...
    def close(self) -> None: ...
    def refresh(self) -> None: ...
    def set_description(self, desc: str | None = None, refresh: bool | None = True) -> None: ...
    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None: ...
    @staticmethod
    def write(s: str, file: TextIO | None = None, end: str = "\n", nolock: bool = False) -> None: ...
