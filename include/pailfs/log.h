// Logging: one process-wide leveled logger.
//
// PAILFS_LOG(kInfo) << "text";  Messages below the current level cost one
// comparison. The sink defaults to stderr; the daemon may point it at syslog.
// Code that logs request details must pass them through the S3 layer's
// redaction first: secrets never reach a sink.
//
// Thread-safety: all functions may be called from any thread; the sink is
// called under an internal mutex, one message at a time.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace pailfs {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Replaces the sink; nullptr restores the stderr sink.
void SetLogSink(std::function<void(LogLevel, std::string_view)> sink);
void LogLine(LogLevel level, std::string_view message);

class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str()); }
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  std::ostringstream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

// Turns the stream expression into void so the macro can be a ?: operand.
struct LogVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace pailfs

// Safe inside an unbraced if/else: the macro is a single expression.
#define PAILFS_LOG(level)                                                  \
  !(::pailfs::LogLevel::level >= ::pailfs::GetLogLevel())                  \
      ? (void)0                                                            \
      : ::pailfs::LogVoidify() & ::pailfs::LogMessage(::pailfs::LogLevel::level).stream()
