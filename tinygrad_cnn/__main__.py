"""``python -m tinygrad_cnn``: the ``tinygrad-cnn`` command (``train``, ``evaluate``, ``plot``)."""

from tinygrad_cnn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
