// Offline audit of a ledger from its segment files: replays every entry from
// the first, recomputes the Merkle tree from scratch, and checks every
// signature transaction against it and against the certificates. Runs
// without a server and with O(log n) memory for the tree.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/segment.h"
#include "cairn/ledger/txid.h"

namespace cairn::ledger {

struct AuditReport {
  uint64_t segments = 0;
  uint64_t entries = 0;           // log entries replayed (= tree size)
  uint64_t signatures = 0;        // signature transactions checked
  TxId last_txid;                 // last entry
  Hash root{};                    // root over every entry
  uint64_t signed_tree_size = 0;  // tree size of the last signed checkpoint
};

// Audits every "*.cseg" file in `segments_dir` against `service_cert`:
//   - segments are intact (checksums, lengths), contiguous from log index 1,
//     each ends on a signature transaction, terms never decrease;
//   - the first entry with a payload (entry 1, or the first after a first
//     leader's empty entries) is the genesis transaction naming `service_cert`;
//   - every entry maps to a leaf (LeafComponentsFor) and the tree is rebuilt;
//   - every signature transaction passes CheckSignatureTransaction (node
//     certificate chains to the service, signature, root and last txid match
//     the rebuilt tree) and signed tree sizes never decrease.
// Returns the report, or the first failure as DataLoss (damaged file),
// FailedPrecondition (history does not match what was signed) or
// InvalidArgument (malformed entry or signature), whose message names the
// segment file and the entry's txid. When a signed root does not match, the
// changed entry lies between the previous signed tree size and this one; the
// message gives that txid range.
// `visit`, when given, is called with each segment once it passed, in order
// (the sealed-contents check, ledger/sealed_audit.h); an error it returns
// stops the audit and is returned.
absl::StatusOr<AuditReport> Audit(
    const std::string& segments_dir, const Certificate& service_cert,
    const std::function<absl::Status(absl::string_view name, const Segment&)>& visit = nullptr);

// The same checks over segments fed one at a time, in log order, from
// anywhere (the archive verifier reads them from an archive store). Each
// Replay checks that the segment continues the previous one exactly.
class SegmentAuditor {
 public:
  explicit SegmentAuditor(const Certificate& service_cert);
  ~SegmentAuditor();
  SegmentAuditor(const SegmentAuditor&) = delete;
  SegmentAuditor& operator=(const SegmentAuditor&) = delete;

  // Replays `segment`; errors as Audit's, naming `name` and the txid.
  absl::Status Replay(absl::string_view name, const Segment& segment);
  // The same checks over entries that continue the replayed ones but need
  // not end on a signature (a restored state snapshot's entries, whose
  // history the next signature replayed after them vouches for).
  absl::Status ReplayRecords(absl::string_view name, absl::Span<const SegmentRecord> records);
  // What was replayed so far.
  AuditReport report() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::ledger
