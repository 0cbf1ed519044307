#include "common/flag_parser.h"

#include <cctype>
#include <sstream>

namespace shardcast {

void FlagParser::addValue(const std::string& name, const std::string& help,
                          std::string default_value) {
  flags_[name] = Flag{Kind::kValue, help, std::move(default_value), {}, false};
  order_.push_back(name);
}

void FlagParser::addList(const std::string& name, const std::string& help) {
  flags_[name] = Flag{Kind::kList, help, "", {}, false};
  order_.push_back(name);
}

void FlagParser::addBool(const std::string& name, const std::string& help) {
  flags_[name] = Flag{Kind::kBool, help, "", {}, false};
  order_.push_back(name);
}

Status FlagParser::parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-' || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::string inline_value;
    bool has_inline = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    auto it = flags_.find(name);
    if (it == flags_.end()) return invalidArgument("unknown flag --" + name + " (see --help)");
    Flag& f = it->second;
    f.set = true;
    if (f.kind == Kind::kBool) {
      if (has_inline) return invalidArgument("flag --" + name + " takes no value");
      continue;
    }
    std::string v;
    if (has_inline) {
      v = inline_value;
    } else if (i + 1 < args.size()) {
      v = args[++i];
    } else {
      return invalidArgument("flag --" + name + " needs a value");
    }
    f.values.push_back(v);
    if (f.kind == Kind::kValue && f.values.size() > 1) {
      return invalidArgument("flag --" + name + " given more than once");
    }
  }
  return Status::ok();
}

std::string FlagParser::value(const std::string& name) const {
  const Flag& f = flags_.at(name);
  return f.values.empty() ? f.default_value : f.values.back();
}

const std::vector<std::string>& FlagParser::list(const std::string& name) const {
  return flags_.at(name).values;
}

bool FlagParser::isSet(const std::string& name) const { return flags_.at(name).set; }

Result<uint64_t> FlagParser::u64(const std::string& name) const {
  std::string v = value(name);
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 19) {
    return invalidArgument("flag --" + name + " must be a non-negative integer, got '" + v + "'");
  }
  return std::stoull(v);
}

Result<uint64_t> FlagParser::bytes(const std::string& name) const {
  auto r = parseByteSize(value(name));
  if (!r.isOk()) return r.status().withContext("flag --" + name);
  return r;
}

std::string FlagParser::usage() const {
  std::ostringstream os;
  for (const auto& name : order_) {
    const Flag& f = flags_.at(name);
    os << "  --" << name << (f.kind == Kind::kBool ? "" : " VALUE");
    os << "\n      " << f.help;
    if (!f.default_value.empty()) os << " (default: " << f.default_value << ")";
    os << "\n";
  }
  return os.str();
}

Result<uint64_t> parseByteSize(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 19) return invalidArgument("'" + text + "' is not a size like 16MiB or 1048576");
  uint64_t n = std::stoull(text.substr(0, i));
  std::string unit = text.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint64_t mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kib" || unit == "ki") mult = 1ull << 10;
  else if (unit == "m" || unit == "mib" || unit == "mi") mult = 1ull << 20;
  else if (unit == "g" || unit == "gib" || unit == "gi") mult = 1ull << 30;
  else if (unit == "t" || unit == "tib" || unit == "ti") mult = 1ull << 40;
  else if (unit == "kb") mult = 1000;
  else if (unit == "mb") mult = 1000 * 1000;
  else if (unit == "gb") mult = 1000ull * 1000 * 1000;
  else return invalidArgument("'" + text + "' has an unknown unit (use KiB, MiB, GiB or bytes)");
  if (n > UINT64_MAX / mult) return invalidArgument("'" + text + "' is too large");
  return n * mult;
}

Result<int64_t> parseDurationMs(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 12) return invalidArgument("'" + text + "' is not a duration like 30s, 10m or 1h");
  int64_t n = std::stoll(text.substr(0, i));
  std::string unit = text.substr(i);
  int64_t mult;
  if (unit == "ms") mult = 1;
  else if (unit.empty() || unit == "s") mult = 1000;
  else if (unit == "m") mult = 60 * 1000;
  else if (unit == "h") mult = 3600 * 1000;
  else if (unit == "d") mult = 86400 * 1000;
  else return invalidArgument("'" + text + "' has an unknown unit (use ms, s, m, h or d)");
  return n * mult;
}

Result<std::map<std::string, std::string>> parseLabels(const std::string& text) {
  std::map<std::string, std::string> out;
  if (text.empty()) return out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalidArgument("label '" + item + "' must be key=value");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

}  // namespace shardcast
