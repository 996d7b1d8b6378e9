"""Hand-offs in flight: deliveries marked for the broker whose publish has not been confirmed."""

from __future__ import annotations

from django.db import models


class Handoff(models.Model):
    """Written in the transaction that marks deliveries ``enqueued_at``, deleted once their
    send tasks are published after commit. A row that outlives a few seconds means the
    process died between commit and publish (``kill -9`` of a worker mid fan-out): the
    sweeper hands its deliveries over again instead of leaving them marked for ever."""

    lane = models.CharField(max_length=20)
    delivery_ids = models.JSONField(help_text="The deliveries' ids, as text.")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "hand-off in flight"

    def __str__(self) -> str:
        return f"{len(self.delivery_ids)} deliveries for the {self.lane} lane"
