from flowc.cli.commands import main

raise SystemExit(main())
