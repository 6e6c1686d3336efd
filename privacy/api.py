"""REST endpoint of the account: download all of its data."""

from django.http import StreamingHttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.views import APIView

from privacy import services
from privacy.serializers import AccountDataSerializer


class AttachmentNegotiation(DefaultContentNegotiation):
    """The answer is a JSON file whatever the Accept header asks for; errors are JSON too."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AccountDataView(APIView):
    """Download everything the account holds as one JSON file (session or API token)."""

    content_negotiation_class = AttachmentNegotiation

    @extend_schema(
        operation_id="account_data",
        responses={
            200: OpenApiResponse(
                AccountDataSerializer,
                description="The account's data as an attachment (docs/account-data.md).",
            )
        },
    )
    def get(self, request):
        return account_data_response(request.user)


def account_data_response(user) -> StreamingHttpResponse:
    """The user's data as a streamed JSON attachment that no cache may keep."""
    response = StreamingHttpResponse(services.export_account(user=user), content_type="application/json")
    filename = services.export_filename(user)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    add_never_cache_headers(response)
    return response
