import sys

from eagerlint.cli import main

sys.exit(main())
