"""Forms of the history pages."""

from django import forms

from conversations.models import Conversation


class RenameForm(forms.ModelForm):
    class Meta:
        model = Conversation
        fields = ["title"]
        labels = {"title": "Title"}
        help_texts = {"title": "Leave empty to show the start date instead."}
