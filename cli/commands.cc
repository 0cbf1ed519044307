#include "cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/progress_view.h"
#include "cli/rollout_client.h"
#include "common/flag_parser.h"

namespace shardcast::cli {
namespace {

void fail(const std::string& msg) { std::fprintf(stderr, "shardcast: error: %s\n", msg.c_str()); }

// Flags every controller command accepts.
void addCommonFlags(FlagParser& p) {
  p.addValue("controller",
             "controller URL, or the replicas of an HA controller, comma-separated; also "
             "$SHARDCAST_CONTROLLER",
             "http://127.0.0.1:7400");
  p.addValue("token-file", "file holding the API bearer token; also $SHARDCAST_TOKEN");
  p.addValue("o", "output format: text or json", "text");
  p.addBool("help", "show this help");
}

Result<std::unique_ptr<RolloutClient>> makeClient(const FlagParser& p) {
  std::string url = p.value("controller");
  if (!p.isSet("controller")) {
    if (const char* env = std::getenv("SHARDCAST_CONTROLLER"); env && *env) url = env;
  }
  std::string token;
  if (const char* env = std::getenv("SHARDCAST_TOKEN"); env && *env) token = env;
  if (!p.value("token-file").empty()) {
    std::ifstream in(p.value("token-file"));
    if (!in) return notFound("cannot read token file " + p.value("token-file"));
    std::getline(in, token);
  }
  for (size_t pos = 0; pos <= url.size();) {
    size_t comma = url.find(',', pos);
    std::string one = url.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (one.rfind("http://", 0) != 0 && one.rfind("https://", 0) != 0) {
      return invalidArgument("--controller must be http:// or https:// URLs separated by commas, got '" +
                             url + "'");
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return std::make_unique<RolloutClient>(url, token);
}

// Parses flags; prints usage or the error. Returns -1 to continue, else an exit code.
int parseOrExit(FlagParser& p, const std::vector<std::string>& args, const char* usage_line) {
  Status s = p.parse(args);
  if (p.isSet("help")) {
    std::printf("usage: %s\n\nflags:\n%s", usage_line, p.usage().c_str());
    return kExitOk;
  }
  if (!s.isOk()) {
    fail(s.message() + "; usage: " + usage_line);
    return kExitUsage;
  }
  if (p.value("o") != "text" && p.value("o") != "json") {
    fail("-o must be text or json");
    return kExitUsage;
  }
  return -1;
}

int exitCodeFor(const api::RolloutStatus& s) {
  if (s.state == api::kRolloutReady) return kExitOk;
  if (s.state == api::kRolloutDegraded) return kExitDegraded;
  return kExitError;
}

// Polls until the rollout reaches a terminal state, drawing progress on `out`
// when `render` is set (redrawn in place on a terminal, every 2 s otherwise).
Result<api::RolloutStatus> watch(RolloutClient& client, const std::string& id, bool render,
                                 bool with_nodes, FILE* out) {
  bool tty = isatty(fileno(out));
  int last_lines = 0;
  std::string last_view;
  auto last_print = std::chrono::steady_clock::now() - std::chrono::hours(1);
  while (true) {
    auto s = client.get(id);
    if (!s.isOk()) return s;
    bool done = api::isTerminalRolloutState(s->state);
    if (render) {
      std::string view = renderStatus(*s, with_nodes);
      auto now = std::chrono::steady_clock::now();
      if (tty) {
        for (int i = 0; i < last_lines; ++i) std::fputs("\x1b[1A\x1b[2K", out);
        std::fputs(view.c_str(), out);
        last_lines = static_cast<int>(std::count(view.begin(), view.end(), '\n'));
      } else if (done || (view != last_view && now - last_print > std::chrono::seconds(2))) {
        std::fputs(view.c_str(), out);
        last_print = now;
      }
      std::fflush(out);
      last_view = view;
    }
    if (done) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

// --source values: URIs or JSON source objects; the --source-* flags fill in the
// fields of a single URI.
Result<std::vector<SourceSpec>> parseSources(const FlagParser& p) {
  const std::vector<std::string> fields = {"source-endpoint", "source-region", "source-addressing",
                                           "source-credentials"};
  bool any_field = std::any_of(fields.begin(), fields.end(),
                               [&](const std::string& f) { return !p.value(f).empty(); });
  std::vector<SourceSpec> out;
  bool any_json = false;
  for (const auto& text : p.list("source")) {
    if (!text.empty() && text.front() == '{') {
      any_json = true;
      nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return invalidArgument("--source '" + text.substr(0, 80) + "' is not valid JSON");
      auto spec = sourceSpecFromJson(j, /*strict=*/true);
      if (!spec.isOk()) return spec.status().withContext("--source");
      out.push_back(std::move(spec).value());
      continue;
    }
    SourceSpec spec;
    spec.uri = text;
    out.push_back(std::move(spec));
  }
  if (any_field) {
    if (out.size() != 1 || any_json) {
      return invalidArgument(
          "--source-endpoint/-region/-addressing/-credentials apply to exactly one --source URI; "
          "for several replicas give each --source as a JSON object");
    }
    out[0].endpoint = p.value("source-endpoint");
    out[0].region = p.value("source-region");
    out[0].addressing = p.value("source-addressing");
    out[0].credentials = p.value("source-credentials");
  }
  return out;
}

}  // namespace

int runDeploy(const std::vector<std::string>& args) {
  const char* usage =
      "shardcast deploy NAME:VERSION --source URI|JSON [--source ...] [--source-endpoint URL] "
      "[--source-region R] [--source-addressing path|virtual] [--source-credentials NAME] "
      "[--regions a,b] [--selector k=v,...] [--piece-size SIZE] [--wait]\n"
      "  A --source is a URI (s3://bucket/prefix/, gs://, az://account/container/prefix/,\n"
      "  http(s)://host/prefix/, file:///dir/) or a JSON source object, e.g.\n"
      "  --source '{\"uri\": \"s3://models/llama/\", \"endpoint\": \"http://minio:9000\",\n"
      "  \"region\": \"us-east-1\", \"addressing\": \"path\", \"credentials\": \"prod-s3\"}'.\n"
      "  --source-endpoint/-region/-addressing/-credentials set those fields of a single\n"
      "  --source URI. Credentials are a name each node resolves locally, never a secret.";
  FlagParser p;
  addCommonFlags(p);
  p.addList("source",
            "where the model is: a URI (s3://, http(s)://, file:///...) or a JSON source object "
            "(repeat for replicas)");
  p.addValue("source-endpoint", "endpoint URL of a single --source URI (S3-compatible stores)");
  p.addValue("source-region", "region of a single --source URI (S3 signing region)");
  p.addValue("source-addressing", "path or virtual (S3 bucket addressing) of a single --source URI");
  p.addValue("source-credentials", "credentials NAME of a single --source URI (resolved on each node)");
  p.addValue("regions", "comma-separated regions to deploy to (default: all)");
  p.addValue("selector", "node labels that must match, k=v,k2=v2");
  p.addValue("piece-size", "piece size, e.g. 4MiB (default: by model size, 4 MiB per GiB, 4 to 16 MiB)");
  p.addBool("wait", "wait until the rollout ends; exit 0 ready, 2 degraded, 1 failed");
  if (int rc = parseOrExit(p, args, usage); rc >= 0) return rc;
  if (p.positional().size() != 1) {
    fail(std::string("deploy needs exactly one NAME:VERSION; usage: ") + usage);
    return kExitUsage;
  }
  api::RolloutRequest req;
  auto ref = parseModelRef(p.positional()[0]);
  if (!ref.isOk()) return fail(ref.status().message()), kExitUsage;
  req.model = *ref;
  if (p.list("source").empty()) return fail("deploy needs at least one --source URI"), kExitUsage;
  auto sources = parseSources(p);
  if (!sources.isOk()) return fail(sources.status().message()), kExitUsage;
  req.sources = std::move(sources).value();
  if (!p.value("regions").empty()) {
    std::stringstream ss(p.value("regions"));
    for (std::string r; std::getline(ss, r, ',');) {
      if (!r.empty()) req.target.regions.push_back(r);
    }
  }
  auto sel = parseLabels(p.value("selector"));
  if (!sel.isOk()) return fail(sel.status().message()), kExitUsage;
  req.target.selector = *sel;
  if (!p.value("piece-size").empty()) {
    auto ps = p.bytes("piece-size");
    if (!ps.isOk()) return fail(ps.status().message()), kExitUsage;
    req.piece_size = *ps;
  }

  auto client = makeClient(p);
  if (!client.isOk()) return fail(client.status().message()), kExitUsage;
  auto created = (*client)->create(req);
  if (!created.isOk()) return fail(created.status().message()), kExitError;
  bool json_out = p.value("o") == "json";
  if (!p.flag("wait")) {
    if (json_out) std::printf("%s\n", api::toJson(*created).dump(2).c_str());
    else std::printf("%s\n", created->id.c_str());
    return kExitOk;
  }
  std::fprintf(stderr, "rollout %s created; waiting for every targeted node\n", created->id.c_str());
  // Progress goes to stderr; stdout carries only the result (text or JSON).
  auto final_state = watch(**client, created->id, /*render=*/true, false, stderr);
  if (!final_state.isOk()) return fail(final_state.status().message()), kExitError;
  if (json_out) std::printf("%s\n", api::toJson(*final_state).dump(2).c_str());
  else std::printf("%s %s\n", final_state->id.c_str(), final_state->state.c_str());
  return exitCodeFor(*final_state);
}

int runStatus(const std::vector<std::string>& args) {
  const char* usage = "shardcast status ROLLOUT_ID [--watch] [--nodes] [-o json]";
  FlagParser p;
  addCommonFlags(p);
  p.addBool("watch", "keep redrawing until the rollout ends");
  p.addBool("nodes", "show every node's progress");
  if (int rc = parseOrExit(p, args, usage); rc >= 0) return rc;
  if (p.positional().size() != 1) return fail(std::string("usage: ") + usage), kExitUsage;
  auto client = makeClient(p);
  if (!client.isOk()) return fail(client.status().message()), kExitUsage;
  bool json_out = p.value("o") == "json";
  Result<api::RolloutStatus> s = p.flag("watch")
      ? watch(**client, p.positional()[0], !json_out, p.flag("nodes"), stdout)
      : (*client)->get(p.positional()[0]);
  if (!s.isOk()) return fail(s.status().message()), kExitError;
  if (json_out) std::printf("%s\n", api::toJson(*s).dump(2).c_str());
  else if (!p.flag("watch")) std::fputs(renderStatus(*s, p.flag("nodes")).c_str(), stdout);
  return kExitOk;
}

int runList(const std::vector<std::string>& args) {
  const char* usage = "shardcast list [-o json]";
  FlagParser p;
  addCommonFlags(p);
  if (int rc = parseOrExit(p, args, usage); rc >= 0) return rc;
  auto client = makeClient(p);
  if (!client.isOk()) return fail(client.status().message()), kExitUsage;
  auto list = (*client)->list();
  if (!list.isOk()) return fail(list.status().message()), kExitError;
  if (p.value("o") == "json") {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& s : *list) a.push_back(api::toJson(s));
    std::printf("%s\n", a.dump(2).c_str());
  } else {
    std::fputs(renderList(*list).c_str(), stdout);
  }
  return kExitOk;
}

int runCancel(const std::vector<std::string>& args) {
  const char* usage = "shardcast cancel ROLLOUT_ID [-o json]";
  FlagParser p;
  addCommonFlags(p);
  if (int rc = parseOrExit(p, args, usage); rc >= 0) return rc;
  if (p.positional().size() != 1) return fail(std::string("usage: ") + usage), kExitUsage;
  auto client = makeClient(p);
  if (!client.isOk()) return fail(client.status().message()), kExitUsage;
  auto s = (*client)->cancel(p.positional()[0]);
  if (!s.isOk()) return fail(s.status().message()), kExitError;
  if (p.value("o") == "json") std::printf("%s\n", api::toJson(*s).dump(2).c_str());
  else std::printf("%s %s\n", s->id.c_str(), s->state.c_str());
  return kExitOk;
}

}  // namespace shardcast::cli
