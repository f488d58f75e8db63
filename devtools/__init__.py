"""Development and test infrastructure (not part of the product): the local stack of servers,
readiness checks and a throwaway PostgreSQL server."""
