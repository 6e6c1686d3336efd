"""The state of the account's latest prepared download, for the profile page."""

from django import template

from privacy.models import DataExport

register = template.Library()


@register.inclusion_tag("privacy/_latest_data_export.html")
def latest_data_export(user) -> dict:
    return {"export": DataExport.objects.filter(user=user).first()}
