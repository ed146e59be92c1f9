"""What values(), values_list() and sort() take: attributes of the collection's own model, holding
one value. Each ``# type: ignore[code]`` line is code both checkers must refuse (run with
--warn-unused-ignores), and pytest shows it is refused at run time too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from limpyd_typed import FK, M2M, PK, Database, InstanceHash, Model, QueryError, Set, field, relation

NS = "typing_selection"


class Author(Model, namespace=NS):
    name: InstanceHash[str] = field(indexable=True)


class SubAuthor(Author, namespace=NS):  # a subclass of a concrete model: pks and keys of its own
    pass


class Shop(Model[str], namespace=NS):
    code: PK[str]


class Book(Model, namespace=NS):
    author: FK[Author] = relation(default=None)
    shop: FK[Shop] = relation(default=None)
    tags: Set[str] = field(indexable=True, default=())
    readers: M2M[Author] = relation(default=(), related_name="read_books")


@pytest.fixture(autouse=True)
def _models(db: Database) -> Iterator[None]:
    for model in (Author, SubAuthor, Shop, Book):
        model.use_database(db)
    yield


def test_values_list_of_a_subclass_attribute_on_the_base_collection() -> None:
    # A subclass has instances and keys of its own: its attributes are not its base's. Both type
    # checkers accept them here (Selectable is covariant: see its docstring); refused at run time.
    with pytest.raises(QueryError, match="cannot read SubAuthor.name from Author"):
        Author.collection().values_list(SubAuthor.name)
    with pytest.raises(QueryError, match="cannot read SubAuthor.pk from Author"):
        Author.collection().values(SubAuthor.pk)


def test_sort_by_a_multi_value_attribute() -> None:
    # A Set or an M2M holds several values: nothing to sort by.
    with pytest.raises(QueryError, match="holds several values"):
        Book.collection().sort(by=Book.tags)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="holds several values"):
        Book.collection().sort(by=Book.readers)  # type: ignore[arg-type]
