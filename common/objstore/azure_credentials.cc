#include "common/objstore/azure_credentials.h"

namespace shardcast {
namespace {

std::optional<std::string> envValue(const AzureCredentialsConfig& config, const std::string& var) {
  auto v = config.env ? config.env(var) : std::nullopt;
  if (!v) return std::nullopt;
  std::string t = trimWhitespace(*v);
  if (t.empty()) return std::nullopt;
  return t;
}

AzureCredentials fromValues(std::optional<std::string> key, std::optional<std::string> sas,
                            std::string source) {
  AzureCredentials c;
  if (key) {
    c.account_key = std::move(*key);
  } else if (sas) {
    c.sas_token = sas->front() == '?' ? sas->substr(1) : std::move(*sas);
  }
  c.source = std::move(source);
  return c;
}

Result<std::optional<std::string>> fileValue(const std::string& path) {
  ASSIGN_OR_RETURN(auto content, readCredentialFile(path));
  if (!content) return std::optional<std::string>();
  std::string t = trimWhitespace(*content);
  if (t.empty()) return invalidArgument(path + " is empty");
  return std::optional<std::string>(std::move(t));
}

}  // namespace

Result<AzureCredentials> resolveAzureCredentials(const std::string& name,
                                                 const AzureCredentialsConfig& config) {
  if (name.empty()) {
    auto key = envValue(config, "AZURE_STORAGE_KEY");
    auto sas = envValue(config, "AZURE_STORAGE_SAS_TOKEN");
    if (key) return fromValues(key, std::nullopt, "environment AZURE_STORAGE_KEY");
    if (sas) return fromValues(std::nullopt, sas, "environment AZURE_STORAGE_SAS_TOKEN");
    return notFound(
        "no Azure credentials: AZURE_STORAGE_KEY and AZURE_STORAGE_SAS_TOKEN are not set; or "
        "name credentials in the source",
        "credentials_not_found");
  }
  RETURN_IF_ERROR(validateCredentialsName(name));
  const std::string prefix = credentialsEnvPrefix(name);
  auto key = envValue(config, prefix + "AZURE_ACCOUNT_KEY");
  if (key) return fromValues(key, std::nullopt, "credentials '" + name + "' (environment " + prefix + "AZURE_ACCOUNT_KEY)");
  auto sas = envValue(config, prefix + "AZURE_SAS_TOKEN");
  if (sas) return fromValues(std::nullopt, sas, "credentials '" + name + "' (environment " + prefix + "AZURE_SAS_TOKEN)");
  const std::string dir = credentialsDir(config.secret_dir, config.env) + "/" + name;
  ASSIGN_OR_RETURN(auto key_file, fileValue(dir + "/azure_account_key"));
  if (key_file) return fromValues(key_file, std::nullopt, "credentials '" + name + "' (file " + dir + "/azure_account_key)");
  ASSIGN_OR_RETURN(auto sas_file, fileValue(dir + "/azure_sas_token"));
  if (sas_file) return fromValues(std::nullopt, sas_file, "credentials '" + name + "' (file " + dir + "/azure_sas_token)");
  return notFound("credentials '" + name + "' not found: set " + prefix + "AZURE_ACCOUNT_KEY or " +
                      prefix + "AZURE_SAS_TOKEN, or mount a file azure_account_key or "
                      "azure_sas_token in " + dir,
                  "credentials_not_found");
}

}  // namespace shardcast
