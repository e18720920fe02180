"""The registry API tests of tests/registry/http, run again with the blobs in Ceph RGW.

Each imported test cites its distribution-spec section; here the ``client`` fixture
(conftest) builds the application on the S3 BlobStore instead of the filesystem one.
Tests that inspect the filesystem layout stay with the filesystem backend.
"""

from __future__ import annotations

import pytest

from tests.registry.http.test_blobs import (  # noqa: F401 - collected again here
    test_blob_only_visible_where_linked,
    test_delete_blob_unlinks_it,
    test_get_and_head_blob,
    test_range_request_gives_206_with_content_range,
)
from tests.registry.http.test_listings import (  # noqa: F401
    test_catalog_paginated,
    test_referrers_with_artifact_type_filter,
    test_tags_list_sorted_and_paginated,
)
from tests.registry.http.test_manifests import (  # noqa: F401
    test_accept_negotiation,
    test_delete_by_tag_then_by_digest,
    test_get_and_head_by_tag_and_digest,
    test_index_needs_its_children,
    test_put_by_digest_with_tag_parameters,
    test_unknown_manifest_and_unknown_repository_are_404,
)
from tests.registry.http.test_uploads import (  # noqa: F401
    test_cancel_and_unknown_sessions,
    test_chunked_upload_with_status_and_ranges,
    test_mount_from_another_repository,
    test_out_of_order_and_overlapping_chunks_are_416,
    test_patch_without_content_range_appends,
    test_post_then_put,
    test_range_length_mismatch_is_refused_and_nothing_partial_kept,
    test_sha512_upload,
    test_single_post,
    test_wrong_digest_stores_nothing,
)

pytestmark = pytest.mark.integration
