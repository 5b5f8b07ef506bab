"""The GraphQL schema: Strawberry types, inputs, errors and the root types of the contract."""
