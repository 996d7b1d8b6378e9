"""Page-number pagination shared by every list endpoint."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response_schema(self, schema):
        # The links are full URLs of this server; the examples say so without a made-up host.
        described = super().get_paginated_response_schema(schema)
        for name, page in (("next", 3), ("previous", 1)):
            described["properties"][name]["example"] = f"https://clarion.example/api/…?page={page}"
            described["properties"][name]["description"] = (
                f"The {name} page's full URL, or null when there is none.")
        return described
