// `cairn-node recover`: rebuilds a service's data in the paired region from
// its archive (storage/archive_layout.h), one command, before any node of the
// recovered service starts. Then the node starts normally, alone, as the
// one voter of the recovered service; the others join it as learners and
// are promoted (docs/operations.md, "Disaster recovery").
//
// The archive is verified as `cairnctl dr verify` does (every object's
// digest, contiguous segments, every signature transaction, the root
// recomputed from genesis) while it is applied; a failure stops the
// recovery and removes what it wrote: nothing is served from an archive
// that failed. With --trusted-checkpoint (a client's state file, or a
// GetLatestCheckpoint answer in protobuf JSON) the archive must hold that
// exact signed checkpoint; one beyond the archive is refused, naming the log
// indexes it would lose, unless --accept-loss says to go on.
//
// The recovered service keeps its identity: the operator brings the same
// service certificate (and the node certificates it issued), so every
// receipt issued before the disaster still verifies. The first entry after
// the recovered history is a governance transaction recording the recovery
// (RecoverService: archive, recovered checkpoint, recovery count) whose
// members replace the old ones.
#pragma once

#include <ostream>

namespace cairn::node {

// argv[0] is "recover". Returns the process exit code: 0 recovered, 1
// refused (the archive failed, or the checkpoint check), 2 usage.
int RecoverMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace cairn::node
