// FakeOrigin: in-memory object listings served through the ObjectStoreRegistry
// under the test scheme "mem" ("mem://bucket/model/"), so controller tests run the
// real source-listing code without a server. A URI can also be set to fail with a
// given Status. Only list() is implemented: the controller never reads bytes.
//
// Thread-safe (listings may run in parallel).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/objstore/registry.h"

namespace shardcast::testing {

class FakeOrigin {
 public:
  void set(const std::string& uri, std::vector<ObjectInfo> objects) {
    std::lock_guard<std::mutex> l(mu_);
    listings_[uri] = std::move(objects);
    failures_.erase(uri);
  }
  void fail(const std::string& uri, Status status) {
    std::lock_guard<std::mutex> l(mu_);
    failures_[uri] = std::move(status);
  }
  int listCalls() const {
    std::lock_guard<std::mutex> l(mu_);
    return list_calls_;
  }
  long lastTimeoutMs() const {
    std::lock_guard<std::mutex> l(mu_);
    return last_timeout_ms_;
  }

  // A registry with only the "mem" scheme, bound to this origin (which must
  // outlive it).
  ObjectStoreRegistry registry() {
    ObjectStoreRegistry r;
    r.add("mem", [this](const SourceSpec& spec, const ObjectStoreOptions& options)
                     -> Result<std::unique_ptr<ObjectStore>> {
      {
        std::lock_guard<std::mutex> l(mu_);
        last_timeout_ms_ = options.request_timeout_ms;
      }
      return std::unique_ptr<ObjectStore>(new Store(this, spec.uri));
    });
    return r;
  }

 private:
  class Store final : public ObjectStore {
   public:
    Store(FakeOrigin* origin, std::string uri) : origin_(origin), uri_(std::move(uri)) {}
    Result<std::vector<ObjectInfo>> list() override { return origin_->listing(uri_); }
    Status readRange(const std::string&, const std::string&, uint64_t, uint64_t,
                     const ByteSink&) override {
      return internalError("FakeOrigin does not serve bytes");
    }
    std::string describe() const override { return uri_; }

   private:
    FakeOrigin* origin_;
    std::string uri_;
  };

  Result<std::vector<ObjectInfo>> listing(const std::string& uri) {
    std::lock_guard<std::mutex> l(mu_);
    ++list_calls_;
    auto f = failures_.find(uri);
    if (f != failures_.end()) return f->second;
    auto it = listings_.find(uri);
    if (it == listings_.end()) return notFound("no such prefix " + uri);
    return it->second;
  }

  mutable std::mutex mu_;
  std::map<std::string, std::vector<ObjectInfo>> listings_;
  std::map<std::string, Status> failures_;
  int list_calls_ = 0;
  long last_timeout_ms_ = 0;
};

}  // namespace shardcast::testing
