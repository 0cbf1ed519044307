// The S3 XML extractor: ListObjectsV2 pages (entities, truncation, url
// encoding-type, malformed documents) and error documents.
#include <doctest/doctest.h>

#include "common/objstore/s3_xml.h"

namespace shardcast {
namespace {

constexpr char kTruncatedPage[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>models</Name>
  <Prefix>llama/</Prefix>
  <KeyCount>3</KeyCount>
  <MaxKeys>3</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <ContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</ContinuationToken>
  <NextContinuationToken>1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi5PcROI4wI/EyIJg==</NextContinuationToken>
  <Contents>
    <Key>llama/a &amp; b &lt;1&gt; &quot;q&quot; &apos;s&apos;.bin</Key>
    <LastModified>2024-07-01T10:00:00.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>
    <Size>1048576</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents><Key>llama/caf&#233;/&#x1F600;.bin</Key><Size>0</Size><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag></Contents>
  <Contents>
    <Key>llama/big.safetensors</Key>
    <Owner><ID>abc</ID><DisplayName>x</DisplayName></Owner>
    <ETag>"e2fc714c4727ee9395f324cd2e7f331f-3"</ETag>
    <Size>9999999999999999999</Size>
  </Contents>
</ListBucketResult>)";

TEST_CASE("a truncated ListObjectsV2 page: keys, sizes, ETags and the next token") {
  auto page = parseS3ListObjectsV2(kTruncatedPage);
  REQUIRE_MESSAGE(page.isOk(), page.status().toString());
  CHECK(page->truncated);
  CHECK(page->next_continuation_token ==
        "1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi5PcROI4wI/EyIJg==");
  REQUIRE(page->objects.size() == 3);
  CHECK(page->objects[0].key == "llama/a & b <1> \"q\" 's'.bin");
  CHECK(page->objects[0].size == 1048576);
  CHECK(page->objects[0].etag == "\"9b2cf535f27731c974343645a3985328\"");
  CHECK(page->objects[1].key == "llama/caf\xc3\xa9/\xf0\x9f\x98\x80.bin");
  CHECK(page->objects[1].size == 0);
  CHECK(page->objects[2].key == "llama/big.safetensors");
  CHECK(page->objects[2].size == 9999999999999999999ull);
  CHECK(page->objects[2].etag == "\"e2fc714c4727ee9395f324cd2e7f331f-3\"");
}

TEST_CASE("the last page, an empty listing and a self-closing token") {
  auto last = parseS3ListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>5</Size>"
      "</Contents></ListBucketResult>");
  REQUIRE(last.isOk());
  CHECK_FALSE(last->truncated);
  CHECK(last->next_continuation_token.empty());
  REQUIRE(last->objects.size() == 1);
  CHECK(last->objects[0].etag.empty());

  auto empty = parseS3ListObjectsV2(
      "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
      "<NextContinuationToken/></ListBucketResult>");
  REQUIRE(empty.isOk());
  CHECK(empty->objects.empty());
  CHECK(empty->next_continuation_token.empty());
}

TEST_CASE("with EncodingType url, keys are percent-decoded and '+' is a space") {
  auto page = parseS3ListObjectsV2(
      "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
      "<Contents><Key>m/a+b%2Bc%25%E1%88%B4.bin</Key><Size>1</Size></Contents>"
      "</ListBucketResult>");
  REQUIRE(page.isOk());
  REQUIRE(page->objects.size() == 1);
  CHECK(page->objects[0].key == "m/a b+c%\xe1\x88\xb4.bin");
  // Without EncodingType the same bytes are the key itself.
  auto raw = parseS3ListObjectsV2(
      "<ListBucketResult><Contents><Key>m/a+b%2B.bin</Key><Size>1</Size></Contents>"
      "</ListBucketResult>");
  REQUIRE(raw.isOk());
  CHECK(raw->objects[0].key == "m/a+b%2B.bin");
}

TEST_CASE("malformed listings are InvalidArgument, never a guess") {
  for (const char* bad : {
           "<Error><Code>AccessDenied</Code></Error>",
           "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
           "<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",
           "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
           "<ListBucketResult><Contents><Key>k</Key><Size>99999999999999999999</Size>"
           "</Contents></ListBucketResult>",
           "<ListBucketResult><Contents><Key>a&nbsp;b</Key><Size>1</Size></Contents>"
           "</ListBucketResult>",
           "<ListBucketResult><Contents><Key>a &amp b</Key><Size>1</Size></Contents>"
           "</ListBucketResult>",
           "<ListBucketResult><Contents><Key>a&#xD800;</Key><Size>1</Size></Contents>"
           "</ListBucketResult>",
           "<ListBucketResult><Contents><Key>k<b>x</b></Key><Size>1</Size></Contents>"
           "</ListBucketResult>",
           "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>k%zz</Key>"
           "<Size>1</Size></Contents></ListBucketResult>",
       }) {
    auto page = parseS3ListObjectsV2(bad);
    CHECK_MESSAGE(!page.isOk(), bad);
    if (!page.isOk()) CHECK(page.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("error documents: code, message and region") {
  S3ErrorDocument e = parseS3Error(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message><AWSAccessKeyId>WRONG</AWSAccessKeyId><RequestId>1</RequestId></Error>)");
  CHECK(e.code == "InvalidAccessKeyId");
  CHECK(e.message == "The AWS Access Key Id you provided does not exist in our records.");
  CHECK(e.region.empty());
  S3ErrorDocument r = parseS3Error(
      "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region &apos;us-east-1&apos;"
      " is wrong</Message><Region>eu-west-1</Region></Error>");
  CHECK(r.code == "AuthorizationHeaderMalformed");
  CHECK(r.message == "the region 'us-east-1' is wrong");
  CHECK(r.region == "eu-west-1");
  CHECK(parseS3Error("").code.empty());
  CHECK(parseS3Error("<html>503 Service Unavailable</html>").code.empty());
}

TEST_CASE("xmlDecodeEntities") {
  CHECK(*xmlDecodeEntities("a&lt;b&gt;c&amp;d&quot;e&apos;f&#65;&#x42;") == "a<b>c&d\"e'fAB");
  CHECK(*xmlDecodeEntities("") == "");
  CHECK_FALSE(xmlDecodeEntities("&#0;").isOk());
  CHECK_FALSE(xmlDecodeEntities("&#x110000;").isOk());
  CHECK_FALSE(xmlDecodeEntities("&").isOk());
}

}  // namespace
}  // namespace shardcast
