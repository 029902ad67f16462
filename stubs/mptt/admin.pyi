from typing import Any, ClassVar, TypeVar

from django.contrib.admin import ModelAdmin
from django.db import models
from django.http import HttpRequest, HttpResponse

_M = TypeVar("_M", bound=models.Model)

class MPTTModelAdmin(ModelAdmin[_M]): ...

class DraggableMPTTAdmin(MPTTModelAdmin[_M]):
    mptt_level_indent: ClassVar[int]
    expand_tree_by_default: ClassVar[bool]
    def tree_actions(self, item: _M) -> str: ...
    def indented_title(self, item: _M) -> str: ...
    def changelist_view(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse: ...
    def get_data_before_update(
        self, request: HttpRequest, cut_item: _M, pasted_on: _M
    ) -> dict[str, Any]: ...
    def get_move_node_data(
        self, cut_item: _M, pasted_on: _M, position: str
    ) -> dict[str, Any]: ...
    def get_tree_data(self, qs: Any, max_level: int) -> list[dict[str, Any]]: ...
