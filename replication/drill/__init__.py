"""Failover drills against the running local stack: load, fault, failover, failback, report."""
