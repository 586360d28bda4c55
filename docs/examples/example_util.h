// What the two SDK examples share: a Client configured from the same
// environment variables cairnctl reads, and a few file and hex helpers.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "cairn/client/client.h"

namespace example {

inline std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// CAIRN_ENDPOINT (comma-separated host:port list), CAIRN_CERT, CAIRN_KEY and
// CAIRN_SERVICE_CERT (PEM files), optionally CAIRN_STATE_FILE.
inline cairn::client::ClientOptions OptionsFromEnvironment() {
  cairn::client::ClientOptions options;
  std::stringstream endpoints(Env("CAIRN_ENDPOINT"));
  for (std::string e; std::getline(endpoints, e, ',');) {
    if (!e.empty()) options.endpoints.push_back(e);
  }
  options.credentials.cert_file = Env("CAIRN_CERT");
  options.credentials.key_file = Env("CAIRN_KEY");
  options.credentials.service_cert_file = Env("CAIRN_SERVICE_CERT");
  options.verified_state.state_file = Env("CAIRN_STATE_FILE");
  return options;
}

inline std::unique_ptr<cairn::client::Client> ConnectOrExit() {
  auto client = cairn::client::Client::Create(OptionsFromEnvironment());
  if (!client.ok()) {
    std::cerr << "cannot set up the client: " << client.status() << "\n";
    std::exit(2);
  }
  return *std::move(client);
}

inline std::string ReadFileOrExit(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(2);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

inline std::string Hex(const std::string& bytes) {
  std::string out;
  char two[3];
  for (unsigned char c : bytes) {
    std::snprintf(two, sizeof(two), "%02x", c);
    out += two;
  }
  return out;
}

}  // namespace example
