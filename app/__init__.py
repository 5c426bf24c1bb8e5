"""petpos: GraphQL API server for a pet store with a point of sale."""
