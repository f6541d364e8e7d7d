from audiostyle.cli import main

raise SystemExit(main())
