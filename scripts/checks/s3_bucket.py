"""Make the test bucket on the S3-compatible server (moto), waiting for it to start."""
import os, time, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT"], region_name="us-east-1")
for _ in range(120):
    try:
        s3.create_bucket(Bucket="shuju-test")
        break
    except Exception:
        time.sleep(0.5)
else:
    raise SystemExit("moto's S3 server did not start")
