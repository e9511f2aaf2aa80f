from __future__ import annotations

import factory

from synergy_portal.models import Role, User
from synergy_portal.services import user_set_roles


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    display_name = factory.Faker("name", locale="en_GB")
    email = factory.LazyAttribute(lambda u: f"{u.username}@police.example")
    tid = "00000000-0000-0000-0000-00000000aaaa"
    oid = factory.Sequence(lambda n: f"00000000-0000-0000-0000-{n:012d}")

    @factory.post_generation
    def roles(self, create: bool, extracted: set[Role] | None, **kwargs: object) -> None:
        if create and extracted:
            user_set_roles(user=self, roles=set(extracted))
