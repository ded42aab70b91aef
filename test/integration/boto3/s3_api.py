"""
S3 through boto3 (botocore's own serializers, parsers and signers) against a Meridian test server,
in path style and virtual-hosted style. Driven by test/integration/s3-boto3.test.ts, which passes
the endpoint and keys in the environment. Each check raises on a mismatch; the script prints one
line per passed check and exits non-zero on the first failure.
"""
import hashlib
import io
import os
import socket
import sys
import urllib.request
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["MERIDIAN_ENDPOINT"]
PORT = ENDPOINT.rsplit(":", 1)[1]

# Virtual-hosted style needs bucket.localhost to resolve: map every *.localhost name to loopback
# in this process (what a wildcard DNS entry would do), without touching /etc/hosts.
_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_getaddrinfo


def client(style, region="us-east-1"):
    endpoint = ENDPOINT if style == "path" else f"http://localhost:{PORT}"
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=os.environ["MERIDIAN_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["MERIDIAN_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": style}, signature_version="s3v4", retries={"max_attempts": 1}),
    )


def expect_error(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {e}"
        return e
    raise AssertionError(f"expected {code}, but the call succeeded")


def new_bucket(s3):
    name = f"boto-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def check_objects(s3, style):
    hosts = []
    s3.meta.events.register("before-send.s3", lambda request, **kw: hosts.append(request.url.split("/")[2]))
    b = new_bucket(s3)
    s3.put_object(Bucket=b, Key="dir/hello world.txt", Body=b"hello", ContentType="text/plain", Metadata={"Colour": "blue"}, Tagging="a=1")
    got = s3.get_object(Bucket=b, Key="dir/hello world.txt")
    assert got["Body"].read() == b"hello"
    assert got["ContentType"] == "text/plain" and got["Metadata"] == {"colour": "blue"}, got
    assert got["ETag"] == '"%s"' % hashlib.md5(b"hello").hexdigest()
    assert got["TagCount"] == 1
    expect_error("NoSuchKey", s3.get_object, Bucket=b, Key="missing")
    expect_error("404", s3.head_object, Bucket=b, Key="missing")
    ranged = s3.get_object(Bucket=b, Key="dir/hello world.txt", Range="bytes=1-3")
    assert ranged["Body"].read() == b"ell" and ranged["ContentRange"] == "bytes 1-3/5"
    expected_host = f"{b}.localhost:{PORT}" if style == "virtual" else ENDPOINT.split("/")[2]
    assert set(hosts) == {expected_host}, (style, set(hosts))
    return b


def check_copy_tagging_attributes(s3, b):
    s3.copy_object(Bucket=b, Key="copy.txt", CopySource={"Bucket": b, "Key": "dir/hello world.txt"}, MetadataDirective="REPLACE", Metadata={"new": "1"})
    head = s3.head_object(Bucket=b, Key="copy.txt")
    assert head["Metadata"] == {"new": "1"}, head["Metadata"]
    s3.put_object_tagging(Bucket=b, Key="copy.txt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3.get_object_tagging(Bucket=b, Key="copy.txt")["TagSet"] == [{"Key": "k", "Value": "v"}]
    attrs = s3.get_object_attributes(Bucket=b, Key="copy.txt", ObjectAttributes=["ETag", "ObjectSize", "StorageClass"])
    assert attrs["ObjectSize"] == 5 and attrs["StorageClass"] == "STANDARD" and attrs["ETag"] == hashlib.md5(b"hello").hexdigest(), attrs
    s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "team", "Value": "storage"}]})
    assert s3.get_bucket_tagging(Bucket=b)["TagSet"] == [{"Key": "team", "Value": "storage"}]
    expect_error("InvalidTag", s3.put_bucket_tagging, Bucket=b, Tagging={"TagSet": [{"Key": "aws:x", "Value": "v"}]})


def check_delete_objects(s3, b):
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "copy.txt"}, {"Key": "never"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["copy.txt", "never"], out
    assert "Errors" not in out


def check_keys_with_spaces(s3, b):
    # botocore asks for encoding-type=url and decodes keys itself: %20, %2B and UTF-8 must come back exact.
    keys = ["ws/ ", "ws/a b+c", "ws/  two leading", "ws/trailing  ", "ws/dir x/é"]
    for k in keys:
        s3.put_object(Bucket=b, Key=k, Body=b"x")
    v1 = s3.list_objects(Bucket=b, Prefix="ws/")
    assert [o["Key"] for o in v1["Contents"]] == sorted(keys, key=lambda k: k.encode()), v1["Contents"]
    v2 = s3.list_objects_v2(Bucket=b, Prefix="ws/", Delimiter="/")
    assert [p["Prefix"] for p in v2["CommonPrefixes"]] == ["ws/dir x/"], v2
    s3.put_object_tagging(Bucket=b, Key="ws/ ", Tagging={"TagSet": [{"Key": "k", "Value": "  spaced  "}]})
    assert s3.get_object_tagging(Bucket=b, Key="ws/ ")["TagSet"] == [{"Key": "k", "Value": "  spaced  "}]
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in out["Deleted"]) == sorted(keys), out
    assert s3.list_objects_v2(Bucket=b, Prefix="ws/")["KeyCount"] == 0


def check_multipart_full_object(s3, b):
    part1 = os.urandom(5 * 1024 * 1024)
    part2 = b"tail"
    mpu = s3.create_multipart_upload(Bucket=b, Key="mp", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    parts = []
    for n, body in enumerate([part1, part2], start=1):
        r = s3.upload_part(Bucket=b, Key="mp", UploadId=mpu["UploadId"], PartNumber=n, Body=body, ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    done = s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=mpu["UploadId"], MultipartUpload={"Parts": parts}, ChecksumType="FULL_OBJECT")
    import zlib, base64

    expected = base64.b64encode(zlib.crc32(part1 + part2).to_bytes(4, "big")).decode()
    assert done["ChecksumCRC32"] == expected and done["ChecksumType"] == "FULL_OBJECT", done
    assert done["ETag"].endswith('-2"')
    got = s3.get_object(Bucket=b, Key="mp", ChecksumMode="ENABLED")
    assert got["Body"].read() == part1 + part2
    part = s3.get_object(Bucket=b, Key="mp", PartNumber=2)
    assert part["Body"].read() == part2 and part["PartsCount"] == 2


def check_transfer_manager(s3, b):
    data = os.urandom(9 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(data), b, "transfer/big.bin")
    out = io.BytesIO()
    s3.download_fileobj(b, "transfer/big.bin", out)
    assert out.getvalue() == data
    s3.copy({"Bucket": b, "Key": "transfer/big.bin"}, b, "transfer/copy.bin")
    assert s3.head_object(Bucket=b, Key="transfer/copy.bin")["ContentLength"] == len(data)


def check_bucket_configs(s3, b):
    rules = [{"AllowedOrigins": ["https://app.example"], "AllowedMethods": ["GET"], "MaxAgeSeconds": 60}]
    s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=b)["CORSRules"] == rules
    lifecycle = [{"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 7}}]
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": lifecycle})
    assert s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"] == lifecycle
    acl = s3.get_bucket_acl(Bucket=b)
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL" and acl["Grants"][0]["Grantee"]["Type"] == "CanonicalUser"
    ownership = s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
    assert ownership == "BucketOwnerEnforced", ownership
    expect_error("AccessControlListNotSupported", s3.put_bucket_acl, Bucket=b, ACL="public-read")
    expect_error("NotImplemented", s3.get_bucket_website, Bucket=b)


def check_list_buckets(s3, b):
    prefix = b[:9]
    pages = s3.get_paginator("list_buckets").paginate(Prefix=b, PaginationConfig={"PageSize": 1})
    names = [x["Name"] for page in pages for x in page.get("Buckets", [])]
    assert names == [b], names
    listed = s3.list_buckets(MaxBuckets=1, Prefix=prefix)
    assert len(listed["Buckets"]) == 1


def check_presign(s3, b):
    s3.put_object(Bucket=b, Key="presigned.txt", Body=b"presigned body")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "presigned.txt"}, ExpiresIn=60)
    assert "X-Amz-Signature=" in url, url
    with urllib.request.urlopen(url) as r:
        assert r.read() == b"presigned body"


def check_cross_region(s3_path):
    east2 = client("path", "us-east-2")
    b = f"boto-e2-{uuid.uuid4().hex[:10]}"
    east2.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    east2.put_object(Bucket=b, Key="k", Body=b"east")
    # A us-east-1 client: botocore follows the region answer and re-signs for us-east-2.
    assert s3_path.get_object(Bucket=b, Key="k")["Body"].read() == b"east"


def main():
    for style in ["path", "virtual"]:
        s3 = client(style)
        b = check_objects(s3, style)
        print(f"{style}: objects")
        check_copy_tagging_attributes(s3, b)
        print(f"{style}: copy, tagging, attributes")
        check_delete_objects(s3, b)
        print(f"{style}: delete_objects")
        check_keys_with_spaces(s3, b)
        print(f"{style}: keys and tag values with spaces (list, tag, delete_objects)")
        check_multipart_full_object(s3, b)
        print(f"{style}: multipart FULL_OBJECT CRC32")
        check_transfer_manager(s3, b)
        print(f"{style}: transfer manager")
        check_bucket_configs(s3, b)
        print(f"{style}: cors, lifecycle, acl, ownership, 501")
        check_list_buckets(s3, b)
        print(f"{style}: list_buckets pages")
        check_presign(s3, b)
        print(f"{style}: presigned url")
    check_cross_region(client("path"))
    print("cross-region redirect")


if __name__ == "__main__":
    try:
        main()
    except Exception:
        import traceback

        traceback.print_exc()
        sys.exit(1)
