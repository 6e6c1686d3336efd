from django.urls import path

from conversations import api, views

app_name = "conversations"

urlpatterns = [
    path("", views.talk, name="talk"),
    path("realtime/session/", api.RealtimeKeyView.as_view(), name="realtime-key"),
    path("live/session/", api.LiveSessionStartView.as_view(), name="live-session"),
    path("conversations/", views.conversation_list, name="list"),
    path("conversations/<uuid:pk>/", views.conversation_detail, name="detail"),
    path("conversations/<uuid:pk>/rename/", views.conversation_rename, name="rename"),
    path("conversations/<uuid:pk>/delete/", views.conversation_delete, name="delete"),
    path("api/conversations/", api.ConversationListView.as_view(), name="api-list"),
    path("api/conversations/<uuid:pk>/", api.ConversationDetailView.as_view(), name="api-detail"),
    path("api/conversations/<uuid:pk>/turns/", api.TurnIngestView.as_view(), name="api-turns"),
    path("api/conversations/<uuid:pk>/usage/", api.VoiceSessionUsageView.as_view(), name="api-usage"),
    path("api/conversations/<uuid:pk>/export/", api.ConversationExportView.as_view(), name="api-export"),
    path("api/export/", api.AccountExportView.as_view(), name="api-account-export"),
]
