// The Azure Shared Key signer, account SAS tokens, base64, Azure credentials by
// name and az:// source parsing.
//
// Expected signatures were computed independently of this code with python3
// (hmac + hashlib.sha256 + base64) over the string-to-sign literals below, with
// the Azurite well-known key of devstoreaccount1:
//   key = base64.b64decode(kDevKey)
//   base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest())
// The first string-to-sign is the example of Microsoft's "Authorize with Shared
// Key" page (Get Container Metadata, version 2009-09-19).
#include <doctest/doctest.h>

#include <map>

#include "common/objstore/azure_credentials.h"
#include "common/objstore/azure_object_store.h"
#include "common/objstore/azure_shared_key.h"
#include "common/objstore/base64.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast {
namespace {

constexpr char kDevKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST_CASE("Shared Key: the documented Get Container Metadata example") {
  AzureSharedKeyRequest r;
  r.method = "GET";
  r.account = "myaccount";
  r.path = "/mycontainer";
  r.query = {{"restype", "container"}, {"comp", "metadata"}, {"timeout", "20"}};
  r.headers = {{"x-ms-version", "2009-09-19"}, {"X-MS-Date", "Sun, 11 Oct 2009 21:49:13 GMT"}};
  auto sig = signAzureSharedKey(r, kDevKey);
  REQUIRE(sig.isOk());
  CHECK(sig->string_to_sign ==
        "GET\n\n\n\n\n\n\n\n\n\n\n\n"
        "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n"
        "/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20");
  CHECK(sig->signature == "m649E40iEJ3QQyCg9/WI2Fa9zS+RB/2rEBcLJb0CKs0=");
  CHECK(sig->authorization == "SharedKey myaccount:m649E40iEJ3QQyCg9/WI2Fa9zS+RB/2rEBcLJb0CKs0=");
}

TEST_CASE("Shared Key: Put Blob with a body, path-style, encoded path") {
  AzureSharedKeyRequest r;
  r.method = "PUT";
  r.account = "devstoreaccount1";
  r.path = "/devstoreaccount1/models/m/a%20b.bin";
  r.headers = {{"Content-Type", "text/plain; charset=UTF-8"},
               {"Content-Length", "11"},
               {"x-ms-version", "2021-08-06"},
               {"x-ms-blob-type", "BlockBlob"},
               {"x-ms-date", "Tue, 30 Jul 2024 12:00:00 GMT"},
               {"User-Agent", "not signed"}};
  auto sig = signAzureSharedKey(r, kDevKey);
  REQUIRE(sig.isOk());
  CHECK(sig->string_to_sign ==
        "PUT\n\n\n11\n\ntext/plain; charset=UTF-8\n\n\n\n\n\n\n"
        "x-ms-blob-type:BlockBlob\nx-ms-date:Tue, 30 Jul 2024 12:00:00 GMT\n"
        "x-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/models/m/a%20b.bin");
  CHECK(sig->signature == "ZPz/rWCw2cyhSlipWMl4SEryaq4m6odK0h9G/GdSkm4=");
}

TEST_CASE("Shared Key: a pinned ranged Get Blob signs If-Match and x-ms-range") {
  AzureSharedKeyRequest r;
  r.account = "devstoreaccount1";
  r.path = "/devstoreaccount1/models/m/a.bin";
  r.headers = {{"x-ms-version", "2021-08-06"},
               {"x-ms-date", "Tue, 30 Jul 2024 12:00:00 GMT"},
               {"x-ms-range", "bytes=100-199"},
               {"If-Match", "\"0x8DCB0A1B2C3D4E5\""},
               {"Content-Length", "0"}};  // zero is signed as empty
  auto sig = signAzureSharedKey(r, kDevKey);
  REQUIRE(sig.isOk());
  CHECK(sig->string_to_sign ==
        "GET\n\n\n\n\n\n\n\n\"0x8DCB0A1B2C3D4E5\"\n\n\n\n"
        "x-ms-date:Tue, 30 Jul 2024 12:00:00 GMT\nx-ms-range:bytes=100-199\n"
        "x-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/models/m/a.bin");
  CHECK(sig->signature == "Wxw+yLJVwIWkgu0D/9Ts+uZGSCJ8KAvVGMHs+OTiRUA=");
}

TEST_CASE("Shared Key building blocks") {
  CHECK(azureCanonicalizedHeaders({{"X-Ms-B", "  two \r\n  lines "}, {"x-ms-a", "1"},
                                   {"x-ms-a", "2"}, {"Host", "h"}}) ==
        "x-ms-a:1,2\nx-ms-b:two lines\n");
  CHECK(azureCanonicalizedResource("acct", "/c", {{"Marker", "b"}, {"comp", "list"},
                                                  {"marker", "a"}}) ==
        "/acct/c\ncomp:list\nmarker:a,b");
  CHECK(azureHttpDate(1255297753) == "Sun, 11 Oct 2009 21:49:13 GMT");
  auto bad = signAzureSharedKey(AzureSharedKeyRequest{}, "not base64!");
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.status().message().find("not base64!") == std::string::npos);
}

TEST_CASE("account SAS token") {
  AzureAccountSasParams p;
  p.expiry = "2030-01-01T00:00:00Z";
  auto sas = azureAccountSas("devstoreaccount1", kDevKey, p);
  REQUIRE(sas.isOk());
  CHECK(sas->string_to_sign ==
        "devstoreaccount1\nrl\nb\nsco\n\n2030-01-01T00:00:00Z\n\nhttps,http\n2021-08-06\n\n");
  CHECK(sas->token ==
        "sv=2021-08-06&ss=b&srt=sco&sp=rl&se=2030-01-01T00%3A00%3A00Z&spr=https%2Chttp"
        "&sig=vDMcyw3ZlebJO5%2BzeUI5GFTFTx%2B1XDXzVVIoXUDAJBQ%3D");
  p.expiry.clear();
  CHECK_FALSE(azureAccountSas("devstoreaccount1", kDevKey, p).isOk());
}

TEST_CASE("base64") {
  CHECK(base64Encode("") == "");
  CHECK(base64Encode("f") == "Zg==");
  CHECK(base64Encode("fo") == "Zm8=");
  CHECK(base64Encode("foobar") == "Zm9vYmFy");
  CHECK(*base64Decode("Zg==") == "f");
  CHECK(*base64Decode("Zm8=") == "fo");
  CHECK(*base64Decode("Zm9vYmFy") == "foobar");
  CHECK(base64Decode(kDevKey)->size() == 64);
  CHECK_FALSE(base64Decode("Zm9").isOk());
  CHECK_FALSE(base64Decode("Zm9 YmFy").isOk());
  CHECK_FALSE(base64Decode("Z=9v").isOk());
}

TEST_CASE("Azure credentials by name, from the environment and from files") {
  testing::TempDir dir;
  AzureCredentialsConfig config;
  config.secret_dir = dir.path();

  config.env = envOf({{"AZURE_STORAGE_KEY", kDevKey}});
  auto def = resolveAzureCredentials("", config);
  REQUIRE(def.isOk());
  CHECK(def->account_key == kDevKey);
  CHECK(def->source == "environment AZURE_STORAGE_KEY");

  config.env = envOf({{"AZURE_STORAGE_SAS_TOKEN", "?sv=x&sig=y"}});
  auto sas = resolveAzureCredentials("", config);
  REQUIRE(sas.isOk());
  CHECK(sas->account_key.empty());
  CHECK(sas->sas_token == "sv=x&sig=y");

  config.env = envOf({{"SHARDCAST_CRED_PROD_AZ_AZURE_SAS_TOKEN", "sv=1&sig=2"},
                      {"AZURE_STORAGE_KEY", kDevKey}});
  auto named_sas = resolveAzureCredentials("prod-az", config);
  REQUIRE(named_sas.isOk());
  CHECK(named_sas->sas_token == "sv=1&sig=2");
  CHECK(named_sas->source ==
        "credentials 'prod-az' (environment SHARDCAST_CRED_PROD_AZ_AZURE_SAS_TOKEN)");

  config.env = envOf({});
  dir.write("files-az/azure_account_key", std::string(kDevKey) + "\n");
  auto from_file = resolveAzureCredentials("files-az", config);
  REQUIRE(from_file.isOk());
  CHECK(from_file->account_key == kDevKey);
  CHECK(from_file->source.find("/files-az/azure_account_key") != std::string::npos);

  auto missing = resolveAzureCredentials("nope", config);
  REQUIRE_FALSE(missing.isOk());
  CHECK(missing.status().reason() == "credentials_not_found");
  CHECK(missing.status().message().find("SHARDCAST_CRED_NOPE_AZURE_ACCOUNT_KEY") !=
        std::string::npos);
  CHECK_FALSE(resolveAzureCredentials("", config).isOk());
  CHECK_FALSE(resolveAzureCredentials("../x", config).isOk());
}

TEST_CASE("az:// sources") {
  SourceSpec s;
  s.uri = "az://acct1/models/llama/v1/";
  auto t = AzureTarget::fromSource(s);
  REQUIRE(t.isOk());
  CHECK(t->account == "acct1");
  CHECK(t->container == "models");
  CHECK(t->key == "llama/v1/");
  CHECK(t->is_prefix);
  CHECK(t->scheme == "https");
  CHECK(t->host == "acct1.blob.core.windows.net");
  CHECK(t->path("llama/v1/a b.bin") == "/models/llama/v1/a%20b.bin");
  CHECK(t->path("") == "/models");

  s.uri = "az://devstoreaccount1/models/m/one.bin";
  s.endpoint = "http://127.0.0.1:10000/devstoreaccount1/";
  t = AzureTarget::fromSource(s);
  REQUIRE(t.isOk());
  CHECK_FALSE(t->is_prefix);
  CHECK(t->host == "127.0.0.1:10000");
  CHECK(t->path(t->key) == "/devstoreaccount1/models/m/one.bin");

  for (const char* bad : {"az://acct1/models", "az://Acct/models/", "az://acct1/m/", "az://acct1/models/../x",
                          "az://acct1/models/p/?sv=1&sig=secret"}) {
    SourceSpec b;
    b.uri = bad;
    auto r = AzureTarget::fromSource(b);
    CHECK_MESSAGE(!r.isOk(), bad);
    if (!r.isOk()) CHECK(r.status().message().find("secret") == std::string::npos);
  }
}

}  // namespace
}  // namespace shardcast
