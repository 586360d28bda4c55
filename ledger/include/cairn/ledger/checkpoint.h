// Checkpoints (a signed statement of tree size, root, last covered txid and
// service id), signature transactions (the log entries that carry them) and
// consistency between two checkpoints.
//
// Certificates are checked at the checkpoint's own timestamp: a checkpoint
// stays verifiable after the signing node's certificate expires, as long as
// the certificate was valid when the node signed. (The timestamp is the
// signer's claim; the service certificate's validity bounds it.)
#pragma once

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/log.pb.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::ledger {

// A checkpoint over the first `tree_size` leaves, whose root is `root` and
// whose last leaf is `last_txid` (last_txid.index == tree_size).
v1::Checkpoint MakeCheckpoint(absl::string_view service_id, uint64_t tree_size, const Hash& root,
                              const TxId& last_txid, int64_t timestamp_unix_ms);

// Signs the canonical encoding of `checkpoint` (docs/formats.md) with
// `node_key`. InvalidArgument naming the field if the checkpoint is malformed.
absl::StatusOr<v1::SignedCheckpoint> SignCheckpoint(const v1::Checkpoint& checkpoint,
                                                    uint64_t signer_node_id,
                                                    const PrivateKey& node_key);

// Checks, in order, that `node_cert` chains to `service_cert` (valid at the
// checkpoint's timestamp), that the checkpoint names this service
// (service_id == service_cert's fingerprint), that it is well formed, that
// its signature verifies under `node_cert`'s key, and that the unsigned
// fields agree: signer_node_id is the certificate's (CN "node-<id>") and
// signature_txid, when set, comes after last_txid. InvalidArgument whose
// message starts with the failed check: "node certificate: ", "service id: ",
// "checkpoint: " or "checkpoint signature: ".
absl::Status VerifySignedCheckpoint(const v1::SignedCheckpoint& signed_checkpoint,
                                    const Certificate& node_cert, const Certificate& service_cert);

// The LogCommand of the signature transaction that carries `signed_checkpoint`.
v1::LogCommand MakeSignatureCommand(const v1::SignedCheckpoint& signed_checkpoint,
                                    const Certificate& node_cert);

// Returns the term of the entry at a log index, or an error.
using TermAt = absl::FunctionRef<absl::StatusOr<uint64_t>(uint64_t index)>;

// What a replica (or the auditor) checks when it applies the signature
// transaction `tx` at log index `index`, with `tree` holding every leaf
// before it: the checkpoint covers only earlier leaves (tree_size <= index-1);
// its root is tree.RootAt(tree_size); its last_txid is the entry at log index
// tree_size (term from `term_at`); and VerifySignedCheckpoint passes with the
// node certificate the transaction carries. FailedPrecondition on a
// mismatch with the local tree (the replica must halt), InvalidArgument when
// the transaction itself is malformed or badly signed. `node_cert`, when
// given, is tx.node_certificate_pem already parsed (parsing a certificate
// costs far more than checking one, and nodes sign with the same one).
absl::Status CheckSignatureTransaction(const v1::SignatureTransaction& tx, uint64_t index,
                                       const MerkleTree& tree, TermAt term_at,
                                       const Certificate& service_cert,
                                       const Certificate* node_cert = nullptr);

// OK when `later` extends `earlier`: same service, later.tree_size >=
// earlier.tree_size, and `proof` (from earlier.tree_size to later.tree_size)
// verifies between the two roots; for equal sizes the roots and last txids
// must be equal and the proof empty. Both checkpoints must already have been
// verified (VerifySignedCheckpoint). A client keeps the last checkpoint it
// accepted and calls this on each new one: a failure means a fork or a
// rollback. InvalidArgument saying which.
absl::Status VerifyCheckpointExtends(const v1::Checkpoint& earlier, const v1::Checkpoint& later,
                                     const v1::ConsistencyProof& proof);

}  // namespace cairn::ledger
