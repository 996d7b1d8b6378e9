"""Page-number pagination shared by every list endpoint."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        """A page size that is not a whole number of at least 1 is refused, not ignored:
        the caller would otherwise get 50 items and not know why. Above the maximum the
        maximum applies, as the parameter's description says."""
        given = request.query_params.get(self.page_size_query_param)
        if given is None:
            return self.page_size
        if not (given.isascii() and given.isdigit()) or int(given) < 1:
            raise ValidationError({self.page_size_query_param: [
                f"A whole number from 1 to {self.max_page_size} is required."]})
        return min(int(given), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (f"Items per page: {self.page_size} unless given, "
                                            f"at most {self.max_page_size}.")
            elif parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters

    def get_paginated_response_schema(self, schema):
        # The links are full URLs of this server; the examples say so without a made-up host.
        described = super().get_paginated_response_schema(schema)
        for name, page in (("next", 3), ("previous", 1)):
            described["properties"][name]["example"] = f"https://clarion.example/api/…?page={page}"
            described["properties"][name]["description"] = (
                f"The {name} page's full URL, or null when there is none.")
        return described
