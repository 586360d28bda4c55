// The two ArchiveStore backends, made by OpenArchiveStore (archive_store.cc)
// once it has parsed the URL.
#pragma once

#include <memory>
#include <string>

#include "cairn/storage/archive_store.h"
#include "cairn/storage/s3_client.h"

namespace cairn::storage::internal {

// A directory: `root` is absolute; objects are files below it.
std::unique_ptr<ArchiveStore> MakeFileStore(std::string url, std::string root);

// A bucket: `prefix` is empty or ends in '/'; object NAME is key PREFIX+NAME.
std::unique_ptr<ArchiveStore> MakeS3Store(std::string url, S3ClientOptions client,
                                          std::string prefix);

}  // namespace cairn::storage::internal
