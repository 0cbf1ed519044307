#include "common/objstore/gcs_target.h"

#include "common/objstore/s3_target.h"

namespace shardcast {

Result<GcsTarget> GcsTarget::fromSource(const SourceSpec& source) {
  if (source.addressing == "virtual") {
    return invalidArgument("GCS source '" + source.uri.substr(0, 200) +
                           "': the JSON API has no virtual-hosted addressing");
  }
  SourceSpec path_style = source;
  path_style.addressing = "path";
  ASSIGN_OR_RETURN(S3Target t, S3Target::fromSource(path_style));
  if (t.uri_scheme != "gs") return invalidArgument("not a gs:// URI: '" + source.uri.substr(0, 200) + "'");
  GcsTarget g;
  g.bucket = t.bucket;
  g.key = t.key;
  g.is_prefix = t.is_prefix;
  // base_path is "<endpoint path>/<bucket>/" for path-style addressing.
  g.base_url = t.scheme + "://" + t.host + t.base_path.substr(0, t.base_path.size() - t.bucket.size() - 2);
  return g;
}

}  // namespace shardcast
