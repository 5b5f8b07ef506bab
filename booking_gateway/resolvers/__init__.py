"""Thin resolvers: the caller's tenant from the context -> a domain call -> a GraphQL payload."""
