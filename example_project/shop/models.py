from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Product(NamedTuple):
    name: str
    price: Decimal


# A real shop keeps these in the database; three are enough to show a goal with a value.
PRODUCTS = {
    "house-roast": Product("House roast, 1 kg beans", Decimal("24.90")),
    "espresso-cups": Product("Espresso cups, set of 4", Decimal("19.50")),
    "hand-grinder": Product("Hand grinder", Decimal("64.00")),
}


class Order(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    product = models.CharField(
        max_length=40, choices=[(key, product.name) for key, product in PRODUCTS.items()]
    )
    quantity = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    total = models.DecimalField(max_digits=8, decimal_places=2)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.get_product_display()}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.total = PRODUCTS[self.product].price * self.quantity
        super().save(*args, **kwargs)
