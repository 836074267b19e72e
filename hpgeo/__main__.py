import sys

from hpgeo.cli import main

sys.exit(main())
