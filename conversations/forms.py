"""Forms of the history pages."""

from django import forms

from conversations.models import Conversation


class RenameForm(forms.Form):
    """Validates a new title; the page saves it with services.update_conversation, which writes the
    title alone (a whole-row save would undo a mint or turn post that committed meanwhile)."""

    title = Conversation._meta.get_field("title").formfield(
        label="Title", help_text="Leave empty to show the start date instead."
    )
