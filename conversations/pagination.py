"""Pages of the conversation lists: counted for a plain list, uncounted for a search."""

from django.core.paginator import Page, Paginator
from django.db.models import F, Func, IntegerField, Subquery
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from conversations import search

TOTAL = "paginator_total"


def row_page_number(number) -> int | None:
    """`number` as a page number that can have rows (an integer from 1); None for anything else
    ("last", "x", 0), which the paginator's own page() or get_page() then answers."""
    try:
        number = int(number)
    except (TypeError, ValueError):
        return None
    return number if number >= 1 else None


def counted_page(paginator: Paginator, number) -> Page | None:
    """Page `number` of the paginator's queryset, with the paginator's count, from one query (the
    count is a subquery of the page's). None when `number` is not a page with rows: the
    paginator's own page() or get_page() then decides, with a count of its own.
    """
    number = row_page_number(number)
    if number is None:
        return None
    queryset = paginator.object_list
    count = Func(F("pk"), function="COUNT", output_field=IntegerField())  # not an aggregate: no GROUP BY
    total = Subquery(queryset.order_by().values(n=count))
    start = (number - 1) * paginator.per_page
    rows = list(queryset.annotate(**{TOTAL: total})[start : start + paginator.per_page])
    if not rows:
        return None
    paginator.count = getattr(rows[0], TOTAL)
    return Page(rows, number, paginator)


class ConversationPagination(PageNumberPagination):
    """A search answers `count: null` and pages with one query: counting would read every match.
    A plain list's page carries its count (counted_page)."""

    def paginate_queryset(self, queryset, request, view=None):
        self.searching = bool(search.clean_query(request.query_params.get("search", "")))
        if not self.searching:
            paginator = self.django_paginator_class(queryset, self.get_page_size(request))
            page = counted_page(paginator, request.query_params.get(self.page_query_param) or 1)
            if page is None:  # not a page with rows ("last", out of range, an empty list)
                return super().paginate_queryset(queryset, request, view)
            self.page, self.request = page, request
            self.display_page_controls = paginator.num_pages > 1 and self.template is not None
            return list(page)
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
