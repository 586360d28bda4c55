// What a cairn::client::Client is configured with: where the service is, who
// the caller is, how long calls may take, how they are retried, and whether
// (and where) the client remembers the latest checkpoint it verified.
//
// Every limit carries its unit in its name and has a default a production
// client can start from; Client::Create rejects values out of range with
// InvalidArgument naming the field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::client {

// The caller's identity and the service identity it pins. Each PEM is taken
// from the *_pem field when it is set, else read from the *_file field.
struct Credentials {
  std::string cert_file;          // the user's certificate (PEM)
  std::string key_file;           // its private key (PEM)
  std::string service_cert_file;  // the service identity certificate (PEM) to pin
  std::string cert_pem;
  std::string key_pem;
  std::string service_cert_pem;
};

// How one logical call (an Append, a GetEntry, ...) is retried when a node's
// error reason says retrying can help (NO_LEADER, LOST_TO_LEADER_CHANGE,
// SHUTTING_DOWN, BACKPRESSURE, NOT_YET_AVAILABLE; NOT_LEADER is followed to
// the leader it names), when no node could be reached, and, for calls that
// are safe to repeat, when the outcome of an attempt is unknown (see
// cairn/client/errors.h and docs/sdk.md). Delays grow from initial_backoff_ms
// by backoff_multiplier up to max_backoff_ms; each is scaled by a random
// factor in [1 - jitter, 1] so that many clients do not retry in lockstep.
// No call takes longer than total_timeout_ms, retries included: no attempt
// runs past it, and a retry whose backoff would end past it is not made.
struct RetryPolicy {
  int64_t initial_backoff_ms = 50;
  int64_t max_backoff_ms = 2000;
  double backoff_multiplier = 2.0;
  double jitter = 0.2;                        // 0 (none) to 1
  int64_t total_timeout_ms = 30000;           // bound on a call with all its retries
  int32_t redirects_without_backoff_max = 3;  // leader hints followed at once, in a row
};

// Verified client state (on by default). The client keeps the latest
// checkpoint it verified (signature, node certificate chaining to the pinned
// service certificate) and accepts a newer one only with a consistency proof
// from the one it holds. A fork or rollback is reported as DataLoss.
struct VerifiedStateOptions {
  bool enabled = true;
  // When set, the trusted checkpoint is loaded from and saved to this file
  // (atomically), so a restarted client keeps its memory.
  std::string state_file;
};

struct ClientOptions {
  // Node client addresses, "host:port". At least one.
  std::vector<std::string> endpoints;
  Credentials credentials;
  // Deadline of each attempt (one RPC to one node).
  int64_t call_timeout_ms = 10000;
  RetryPolicy retry;
  VerifiedStateOptions verified_state;
  // Bound on the channels a client holds: the configured endpoints plus
  // leaders learned from "cairn-leader" hints.
  int32_t channels_max = 32;
  // Bound on calls in flight at once (asynchronous appends included); past
  // it a new call fails at once with ResourceExhausted.
  int32_t inflight_calls_max = 4096;
};

}  // namespace cairn::client
