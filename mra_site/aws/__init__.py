"""The only package that imports boto3: clients per (service, region) and AWS errors
turned into the project's own exceptions."""
