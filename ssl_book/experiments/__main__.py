import sys

from ssl_book.experiments.cli import main

sys.exit(main())
