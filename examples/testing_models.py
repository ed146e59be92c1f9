"""Your own models under test: the limpyd_typed pytest fixtures and hypothesis strategies."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limpyd_typed import Database, InstanceHash, Model, Set, UniquenessError, field
from limpyd_typed.testing.plugin import ModelsBinder
from limpyd_typed.testing.strategies import instances_of, values_for


class Member(Model, namespace="club"):
    database = Database()  # REDIS_URL in production; the tests move Member to their own server
    email: InstanceHash[str] = field(unique=True)
    age: InstanceHash[int] = field(index="range")
    teams: Set[str] = field(indexable=True, default=())


# limpyd_models is a function-scoped fixture: its database outlives the examples of one test, so
# each example starts by deleting the Members of the previous one, then draws.
@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_age_filters_find_exactly_the_matching_members(limpyd_models: ModelsBinder, data: st.DataObject) -> None:
    limpyd_models(Member)  # Member lives on the emptied test database for this test
    Member.collection().delete()
    members = data.draw(st.lists(instances_of(Member), max_size=8))  # created; emails all different
    threshold = data.draw(values_for(Member.age))  # an int: any signed 64-bit value
    expected = {m.pk_value for m in members if (m.age.get() or 0) >= threshold}
    assert set(Member.collection(Member.age >= threshold)) == expected
    assert Member.check_indexes().ok


def test_an_email_is_held_once(limpyd_models: ModelsBinder) -> None:
    limpyd_models(Member)
    Member(email="ann@example.org", age=30)
    with pytest.raises(UniquenessError):
        Member(email="ann@example.org", age=31)
    assert len(Member.collection()) == 1
