"""Getting mcp-agents into users' hands: client configuration (`install`), diagnostics (`doctor`),
and the generated manifests and README configuration table."""
