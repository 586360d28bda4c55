// The s3:// archive store's flags (storage::S3StoreOptions), as both
// `cairn-node --role geo-replica` and `cairn-node recover` take them.
#pragma once

#include <CLI/CLI.hpp>

#include "cairn/storage/archive_store.h"

namespace cairn::node {

// Adds --archive-s3-endpoint, --archive-s3-region, --archive-s3-path-style,
// --archive-s3-ca-file, --archive-credentials-file and --archive-profile,
// filling `s3`.
void AddArchiveStoreFlags(CLI::App& app, storage::S3StoreOptions* s3);

}  // namespace cairn::node
