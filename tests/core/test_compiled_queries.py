"""core.compiled_queries: SQL built once, run with each call's values, converted as the ORM converts rows."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.compiled_queries import CompiledQuery
from tests.factories import UserFactory


def _users_joined_by(user_id, at):
    return get_user_model().objects.filter(pk__gte=user_id, date_joined__lte=at).values_list("email", "date_joined")


@pytest.mark.django_db
def test_each_call_runs_the_one_compiled_statement_with_its_own_values(django_assert_num_queries):
    now = timezone.now()
    first = UserFactory(email="first@example.test", date_joined=now - timedelta(days=2))
    second = UserFactory(email="second@example.test", date_joined=now - timedelta(days=1))
    built = []
    joined = CompiledQuery(lambda **values: built.append(values) or _users_joined_by(**values))

    with django_assert_num_queries(1):
        assert sorted(joined.rows(user_id=first.pk, at=now)) == [
            ("first@example.test", first.date_joined),
            ("second@example.test", second.date_joined),
        ]
    assert joined.rows(user_id=second.pk, at=now) == [("second@example.test", second.date_joined)]
    assert joined.rows(user_id=first.pk, at=now - timedelta(days=1, hours=12)) == [
        ("first@example.test", first.date_joined)
    ]
    assert len(built) == 1


@pytest.mark.django_db
def test_texts_are_values_too_and_a_new_shape_is_compiled_apart():
    UserFactory(email="text@example.test")
    built = []
    by_email = CompiledQuery(
        lambda email: built.append(email) or get_user_model().objects.filter(email=email).values_list("email")
    )

    assert by_email.rows(email="text@example.test") == [("text@example.test",)]
    assert by_email.rows(email="nobody@example.test") == []
    assert by_email.rows(shape=("another",), email="text@example.test") == [("text@example.test",)]
    assert len(built) == 2


@pytest.mark.django_db
def test_a_value_that_is_not_a_parameter_of_the_query_is_refused():
    ignoring = CompiledQuery(lambda user_id: get_user_model().objects.values_list("pk"))

    with pytest.raises(ValueError):
        ignoring.rows(user_id=1)
    with pytest.raises(TypeError):
        CompiledQuery(_users_joined_by).rows(user_id=1.5, at=timezone.now())
