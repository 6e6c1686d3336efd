"""Query-string filters of the conversation list API."""

import django_filters

from conversations import selectors
from conversations.models import Conversation


class ConversationFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Words in the title or any turn.")
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Started on or after this day (YYYY-MM-DD)."
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Started on or before this day (YYYY-MM-DD)."
    )
    status = django_filters.ChoiceFilter(choices=Conversation.Status.choices)

    class Meta:
        model = Conversation
        fields = ["search", "created_after", "created_before", "status"]

    def filter_search(self, queryset, name, value):
        return selectors.search_conversations(queryset, value, snippet=False)  # the API shows none
