"""Pages of the conversation list API: counted for a plain list, uncounted for a search."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from conversations import search


class ConversationPagination(PageNumberPagination):
    """A search answers `count: null` and pages with one query: counting would read every match."""

    def paginate_queryset(self, queryset, request, view=None):
        self.searching = bool(search.clean_query(request.query_params.get("search", "")))
        if not self.searching:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        try:
            self.number = int(request.query_params.get(self.page_query_param, 1))
            if self.number < 1:
                raise ValueError
        except ValueError:
            raise NotFound(
                self.invalid_page_message.format(page_number="?", message="Invalid page.")
            ) from None
        rows, self.has_next = search.page_of(queryset, self.number, self.get_page_size(request))
        return rows

    def get_paginated_response(self, data):
        if not self.searching:
            return super().get_paginated_response(data)
        url = self.request.build_absolute_uri()
        next_url = self._page_url(url, self.number + 1) if self.has_next else None
        previous = self._page_url(url, self.number - 1) if self.number > 1 else None
        return Response({"count": None, "next": next_url, "previous": previous, "results": data})

    @staticmethod
    def _page_url(url, number):
        return replace_query_param(url, "page", number) if number > 1 else remove_query_param(url, "page")

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count"]["nullable"] = True
        schema["properties"]["count"]["description"] = "All matches; null for a search, which is not counted."
        return schema
