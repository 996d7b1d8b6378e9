"""The keyset walk over an audience: every member once, in order, whatever the chunk bounds.

Groups overlap each other and the subscribers named in ``to``; the chunks are
compared with the audience worked out in Python from the same rows.
"""

from __future__ import annotations

import random

import pytest

from notifications.models import default_directory_id
from notifications.selectors.audience import (
    AudienceSpec,
    audience_chunk,
    audience_chunk_end,
    audience_subscribers,
)
from tests.factories import RecipientGroupFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def overlapping():
    rng = random.Random(7)
    people = [SubscriberFactory() for _ in range(60)]
    groups = [RecipientGroupFactory() for _ in range(3)]
    for person in people:
        for group in groups:
            if rng.random() < 0.4:
                group.members.add(person)
    named = rng.sample(people, 12)
    spec = AudienceSpec(external_ids=frozenset(p.external_id for p in named),
                        directory_id=default_directory_id(),
                        group_ids=frozenset(g.pk for g in groups[:2]))
    expected = sorted({p.pk for p in named}
                      | {p.pk for g in groups[:2] for p in g.members.all()})
    return spec, expected, [p.pk for p in people]


def test_bounds_select_exactly_the_members_between_them(overlapping):
    spec, expected, pks = overlapping
    rng = random.Random(11)
    for _ in range(25):
        after, upto = sorted(rng.sample([0, *pks], 2))
        chunk = list(audience_subscribers(spec, after=after, upto=upto)
                     .order_by("pk").values_list("pk", flat=True))
        assert chunk == [pk for pk in expected if after < pk <= upto]
    assert list(audience_subscribers(spec).order_by("pk").values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("size", [1, 4, 9, 100])
def test_the_keyset_walk_reaches_every_member_once(overlapping, size):
    spec, expected, _ = overlapping
    walked, position = [], 0
    while position is not None:
        upto = audience_chunk_end(spec, after=position, size=size)
        chunk = list(audience_chunk(spec, after=position, upto=upto).values_list("pk", flat=True))
        assert len(chunk) == (size if upto is not None else len(chunk))
        walked += chunk
        position = upto
    assert walked == expected
