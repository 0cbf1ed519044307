// Azure Storage Shared Key authorization and account SAS tokens: a pure signer
// (no I/O, no clock; the x-ms-date header is the caller's).
//
// Shared Key (version 2009-09-19 and later), per "Authorize with Shared Key":
//   StringToSign = VERB \n Content-Encoding \n Content-Language \n Content-Length
//     \n Content-MD5 \n Content-Type \n Date \n If-Modified-Since \n If-Match \n
//     If-None-Match \n If-Unmodified-Since \n Range \n CanonicalizedHeaders
//     CanonicalizedResource
// with Content-Length empty when it is 0, CanonicalizedHeaders every x-ms-*
// header ("name:value\n", names lower-case and sorted, values unfolded and
// trimmed) and CanonicalizedResource "/" account path, then one "\nname:value" per
// query parameter (names lower-case and sorted, decoded values sorted and joined
// with ','). Authorization: "SharedKey <account>:" base64(HMAC-SHA256(key, sts))
// with the base64-decoded account key.
//
// Account SAS (version 2020-12-06 and later string-to-sign, with the encryption
// scope line): see azureAccountSas().
//
// Thread-safe (pure functions). The key never appears in a returned string or a
// Status; the SAS token is itself a secret and must not be logged.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace shardcast {

struct AzureSharedKeyRequest {
  std::string method = "GET";
  std::string account;  // the storage account name (devstoreaccount1)
  // The URL's path exactly as sent (percent-encoded), e.g. "/models/m/a.bin" or,
  // path-style (Azurite), "/devstoreaccount1/models/m/a.bin".
  std::string path = "/";
  std::multimap<std::string, std::string> query;  // decoded names and values
  // Every header the request sends (any case); the standard ones and x-ms-* are signed.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct AzureSharedKeySignature {
  std::string string_to_sign;
  std::string signature;      // base64
  std::string authorization;  // "SharedKey account:signature"
};

// InvalidArgument (without the key) when `base64_key` is not base64.
Result<AzureSharedKeySignature> signAzureSharedKey(const AzureSharedKeyRequest& request,
                                                   const std::string& base64_key);

// Building blocks, exposed for tests.
std::string azureCanonicalizedHeaders(
    const std::vector<std::pair<std::string, std::string>>& headers);
std::string azureCanonicalizedResource(const std::string& account, const std::string& path,
                                       const std::multimap<std::string, std::string>& query);
// "Sun, 11 Oct 2009 21:49:13 GMT" (RFC 1123, for x-ms-date).
std::string azureHttpDate(int64_t unix_seconds);

struct AzureAccountSasParams {
  std::string permissions = "rl";        // sp
  std::string services = "b";            // ss
  std::string resource_types = "sco";    // srt
  std::string start;                     // st, "" for none (ISO 8601 UTC)
  std::string expiry;                    // se, required: "2030-01-01T00:00:00Z"
  std::string ip;                        // sip, "" for none
  std::string protocol = "https,http";   // spr
  std::string version = "2021-08-06";    // sv, >= 2020-12-06
  std::string encryption_scope;          // ses, "" for none
};

struct AzureAccountSas {
  std::string string_to_sign;
  std::string token;  // "sv=...&ss=...&srt=...&sp=...&se=...&spr=...&sig=..." (no '?')
};

// Signs an account SAS with the account key (base64). InvalidArgument when the
// key is not base64, the expiry is missing or the version predates 2020-12-06.
Result<AzureAccountSas> azureAccountSas(const std::string& account, const std::string& base64_key,
                                        const AzureAccountSasParams& params);

}  // namespace shardcast
