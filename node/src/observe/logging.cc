// Structured logging for cairn-node (see logging.h). The JSON form escapes the
// message so every line is a valid JSON object a log pipeline can ingest.
#include "observe/logging.h"

#include <grpc/support/log.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "absl/strings/string_view.h"
#include "cairn/base/utf8.h"

namespace cairn::node {
namespace {

// %j: the log message, escaped for inclusion in a JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr char kHex[] = "0123456789abcdef";
    auto put = [&dest](const char* s) { dest.append(s, s + std::char_traits<char>::length(s)); };
    // Bytes that are not UTF-8 (from a peer's bytes quoted in an error,
    // say) would make the line invalid JSON: each goes out as \u00XX.
    const bool utf8 = base::IsValidUtf8(absl::string_view(msg.payload.data(), msg.payload.size()));
    for (char c : msg.payload) {
      switch (c) {
        case '"':
          put("\\\"");
          break;
        case '\\':
          put("\\\\");
          break;
        case '\n':
          put("\\n");
          break;
        case '\r':
          put("\\r");
          break;
        case '\t':
          put("\\t");
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20 ||
              (!utf8 && static_cast<unsigned char>(c) >= 0x80)) {
            const char esc[] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xf], kHex[c & 0xf]};
            dest.append(esc, esc + sizeof(esc));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

// gRPC's own log lines (gpr_log: transport and handshake errors), in the
// node's format instead of gRPC's, so a JSON log stays one object per line.
void GrpcLogToSpdlog(gpr_log_func_args* args) {
  const spdlog::level::level_enum level =
      args->severity == GPR_LOG_SEVERITY_ERROR  ? spdlog::level::err
      : args->severity == GPR_LOG_SEVERITY_INFO ? spdlog::level::info
                                                : spdlog::level::debug;
  spdlog::log(level, "grpc: {}:{}: {}", args->file, args->line, args->message);
}

}  // namespace

void InitLogging(const std::string& level, const std::string& format, uint64_t node_id) {
  auto logger =
      std::make_shared<spdlog::logger>("cairn", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == "json") {
    formatter->add_flag<JsonEscapedMessage>('j').set_pattern(
        "{\"ts\":\"%Y-%m-%dT%H:%M:%S.%fZ\",\"level\":\"%l\",\"node\":" + std::to_string(node_id) +
        ",\"msg\":\"%j\"}");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %L node" + std::to_string(node_id) + " %v");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
  gpr_set_log_function(GrpcLogToSpdlog);
}

}  // namespace cairn::node
