"""Static types of limpyd_typed.testing and of the maintenance reports, checked by mypy --strict and
basedpyright, run by pytest (``assert_type`` returns its value)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st
from typing_extensions import assert_type

from limpyd_typed import InstanceHash, Model, PK, Set, String, field
from limpyd_typed.maintenance import DuplicateUnique, IndexReport, MissingEntry, OrphanKey, StaleEntry
from limpyd_typed.testing.plugin import ModelsBinder
from limpyd_typed.testing.strategies import Kwargs, instances_of, kwargs_for, values_for


class Tone(enum.Enum):
    LOW = 1
    HIGH = 2


class Typed(Model, namespace="typing_testing"):
    name: InstanceHash[str] = field(unique=True)
    age: InstanceHash[int] = field(index="range")
    price: String[Decimal | None] = field(default=None)
    seen: InstanceHash[datetime | None] = field(default=None)
    tone: InstanceHash[Tone] = field(default=Tone.LOW)
    tags: Set[str] = field(indexable=True, default=())


class Coded(Model[str], namespace="typing_testing"):
    code: PK[str]


def test_values_for_is_typed_by_the_attribute() -> None:
    assert_type(values_for(Typed.age), st.SearchStrategy[int])
    assert_type(values_for(Typed.name), st.SearchStrategy[str])
    assert_type(values_for(Typed.price), st.SearchStrategy[Decimal | None])
    assert_type(values_for(Typed.seen), st.SearchStrategy[datetime | None])
    assert_type(values_for(Typed.tone), st.SearchStrategy[Tone])
    assert_type(values_for(Typed.tags), st.SearchStrategy[str])  # one member of the set
    assert_type(values_for(Coded.code), st.SearchStrategy[str])
    with pytest.raises(TypeError):
        values_for(Typed)  # type: ignore[arg-type]


@given(values_for(Typed.age), values_for(Typed.tone))
def test_drawn_values_have_the_field_types(age: int, tone: Tone) -> None:
    assert isinstance(age, int) and isinstance(tone, Tone)


def test_model_strategies_are_typed_by_the_model() -> None:
    assert_type(instances_of(Typed), st.SearchStrategy[Typed])
    assert_type(instances_of(Coded), st.SearchStrategy[Coded])
    assert_type(kwargs_for(Typed), st.SearchStrategy[Kwargs])
    with pytest.raises(TypeError, match="takes a model class"):
        instances_of(Typed.age)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a model class"):
        kwargs_for("Typed")  # type: ignore[arg-type]


def test_index_reports_are_typed(limpyd_models: ModelsBinder) -> None:
    limpyd_models(Typed)
    Typed(name="x", age=3)
    report = assert_type(Typed.check_indexes(), IndexReport)
    assert assert_type(report.ok, bool) and assert_type(report.problems, int) == 0
    assert assert_type(report.counts, dict[str, int])["stale"] == 0
    assert_type(report.stale, tuple[StaleEntry, ...])
    assert_type(report.missing, tuple[MissingEntry, ...])
    assert_type(report.duplicates, tuple[DuplicateUnique, ...])
    assert_type(report.orphans, tuple[OrphanKey, ...])
    assert assert_type(Typed.rebuild_indexes(batch=10), IndexReport).ok
    with pytest.raises(TypeError):
        Typed.check_indexes(10)  # type: ignore[call-arg]
