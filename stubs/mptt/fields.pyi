from typing import TypeVar

from django.db import models

_ST = TypeVar("_ST", contravariant=True)
_GT = TypeVar("_GT", covariant=True, default=_ST)

class TreeForeignKey(models.ForeignKey[_ST, _GT]): ...
class TreeOneToOneField(models.OneToOneField[_ST, _GT]): ...
