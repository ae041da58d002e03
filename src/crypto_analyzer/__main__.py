"""``python -m crypto_analyzer`` runs the same entry point as the console script."""

from crypto_analyzer.cli.app import main

if __name__ == "__main__":
    main()
