from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models


class Member(AbstractBaseUser):
    """A custom user model with neither ``email`` nor ``first_name``."""

    handle = models.CharField(max_length=40, unique=True)

    USERNAME_FIELD = "handle"
