"""The local replicator: DynamoDB streams and S3 events of each region applied to the other."""
