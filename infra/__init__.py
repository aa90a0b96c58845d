"""Running the stack locally: the S3 object store and other services the lakehouse talks to."""
