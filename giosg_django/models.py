"""The one model of giosg_django, used only by ``DatabaseStorage``."""

from __future__ import annotations

from django.db import models


class PendingCall(models.Model):
    """One response's calls waiting for a later page of the same browser (a *record* of
    ``giosg_django.storage.records``): written once, removed by the request that takes it, or
    by ``manage.py giosg_clear_pending`` once it expired."""

    # The random name the browser's receipt (cookie) carries: 128 bits, URL-safe base64.
    id = models.CharField(primary_key=True, max_length=32, editable=False)
    # JSON text: {"queued": ns since the epoch, "calls": [[module, method, args, sign], ...]}.
    calls = models.TextField(editable=False)
    expires = models.DateTimeField(db_index=True, editable=False)

    class Meta:
        verbose_name = "pending giosg calls"
        verbose_name_plural = "pending giosg calls"

    def __str__(self) -> str:
        return f"pending giosg calls {self.id[:6]}… (expire {self.expires:%Y-%m-%d %H:%M})"
