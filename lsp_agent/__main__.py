import sys

from lsp_agent.cli import main

sys.exit(main())
