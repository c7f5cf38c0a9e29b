"""``python bench/peers [mlflow] [--force]``: install a peer venv, print its python."""

import os
import sys

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from peers import main
else:
    from . import main

main()
