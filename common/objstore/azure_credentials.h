// Finds the credentials an az:// source authorizes with: a storage account key
// (Shared Key) or a SAS token.
//
// First match wins:
//  1. A source that names credentials (SourceSpec.credentials, e.g. "prod-az") uses
//     that name only: SHARDCAST_CRED_PROD_AZ_AZURE_ACCOUNT_KEY, else
//     SHARDCAST_CRED_PROD_AZ_AZURE_SAS_TOKEN, else the files
//     <credentials dir>/prod-az/azure_account_key or .../azure_sas_token (a
//     mounted Secret). A name that resolves nowhere is an error.
//  2. AZURE_STORAGE_KEY, else AZURE_STORAGE_SAS_TOKEN.
// An account key wins over a SAS token given under the same name. A SAS token may
// start with '?' (as the portal shows it); it is stored without.
//
// Stateless; thread-safe. Errors name variables and files, never a value.
#pragma once

#include <string>

#include "common/objstore/credential_files.h"
#include "common/status.h"

namespace shardcast {

struct AzureCredentials {
  std::string account_key;  // base64; "" when a SAS token is used
  std::string sas_token;    // query string without '?'; "" with an account key
  std::string source;       // where they came from, for messages; never a secret
};

struct AzureCredentialsConfig {
  EnvLookup env;           // required
  std::string secret_dir;  // "" = $SHARDCAST_CREDENTIALS_DIR or kDefaultCredentialsDir
};

// NotFound "credentials_not_found" naming where it looked; InvalidArgument for a
// bad name; IOError for unreadable files.
Result<AzureCredentials> resolveAzureCredentials(const std::string& name,
                                                 const AzureCredentialsConfig& config);

}  // namespace shardcast
