from mcp_agents.cli import main

raise SystemExit(main())
