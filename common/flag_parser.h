// A small command-line parser shared by the shardcast binaries: `--name value`,
// `--name=value`, boolean `--name`, repeated flags, and positional arguments.
//
// Declare the flags, call parse(), then read values. Not thread-safe; used once
// by main(). Errors are one readable line naming the flag.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace shardcast {

class FlagParser {
 public:
  // A flag that takes a value; `help` is shown by usage().
  void addValue(const std::string& name, const std::string& help, std::string default_value = "");
  // A flag that may be given several times (e.g. --source).
  void addList(const std::string& name, const std::string& help);
  // A boolean flag.
  void addBool(const std::string& name, const std::string& help);

  Status parse(const std::vector<std::string>& args);

  std::string value(const std::string& name) const;
  const std::vector<std::string>& list(const std::string& name) const;
  bool isSet(const std::string& name) const;  // given on the command line
  bool flag(const std::string& name) const { return isSet(name); }
  Result<uint64_t> u64(const std::string& name) const;
  // Parses sizes like "16MiB", "1GiB", "512k", "1048576".
  Result<uint64_t> bytes(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

  std::string usage() const;

 private:
  enum class Kind { kValue, kList, kBool };
  struct Flag {
    Kind kind;
    std::string help;
    std::string default_value;
    std::vector<std::string> values;
    bool set = false;
  };
  std::map<std::string, Flag> flags_;
  std::vector<std::string> order_;
  std::vector<std::string> positional_;
};

// Parses "16MiB", "1GiB", "512k", "1048576" into bytes.
Result<uint64_t> parseByteSize(const std::string& text);
// Parses durations "500ms", "30s", "10m", "1h", "2d" (a bare number is seconds)
// into milliseconds.
Result<int64_t> parseDurationMs(const std::string& text);
// Parses "k=v,k2=v2" into a map; InvalidArgument on an entry without '='.
Result<std::map<std::string, std::string>> parseLabels(const std::string& text);

}  // namespace shardcast
