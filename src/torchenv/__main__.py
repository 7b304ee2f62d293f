from torchenv.cli.main import main

raise SystemExit(main())
