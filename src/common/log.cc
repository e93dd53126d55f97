#include "pailfs/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace pailfs {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

struct SinkHolder {
  std::mutex mu;
  std::function<void(LogLevel, std::string_view)> sink;  // guarded by mu
};

SinkHolder& Holder() {
  static SinkHolder* holder = new SinkHolder();
  return *holder;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarning: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

void SetLogSink(std::function<void(LogLevel, std::string_view)> sink) {
  std::lock_guard<std::mutex> lock(Holder().mu);
  Holder().sink = std::move(sink);
}

void LogLine(LogLevel level, std::string_view message) {
  std::lock_guard<std::mutex> lock(Holder().mu);
  if (Holder().sink) {
    Holder().sink(level, message);
    return;
  }
  std::fprintf(stderr, "pailfs %s: %.*s\n", LevelName(level),
               static_cast<int>(message.size()), message.data());
}

}  // namespace pailfs
