// Line-oriented logging to stderr: "2026-11-25T17:36:31.123Z INFO agent: message".
//
// Thread-safe (each line is one write). There is no global logger object to
// configure beyond the process-wide minimum level, set once by main().
// Never log secrets: credentials, tokens and signed URLs stay out of messages.
#pragma once

#include <sstream>
#include <string>

namespace shardcast {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void setLogLevel(LogLevel level);
void setLogComponent(const std::string& component);  // e.g. "agent node-3"
bool logEnabled(LogLevel level);
void logLine(LogLevel level, const std::string& message);

}  // namespace shardcast

#define SC_LOG(level, expr)                                        \
  do {                                                             \
    if (::shardcast::logEnabled(level)) {                          \
      std::ostringstream sc_log_os_;                               \
      sc_log_os_ << expr;                                          \
      ::shardcast::logLine(level, sc_log_os_.str());               \
    }                                                              \
  } while (0)
#define LOG_DEBUG(expr) SC_LOG(::shardcast::LogLevel::kDebug, expr)
#define LOG_INFO(expr) SC_LOG(::shardcast::LogLevel::kInfo, expr)
#define LOG_WARN(expr) SC_LOG(::shardcast::LogLevel::kWarn, expr)
#define LOG_ERROR(expr) SC_LOG(::shardcast::LogLevel::kError, expr)
