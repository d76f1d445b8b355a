"""The demo: synthetic partners play the scenarios over real HTTP on the embedded defaults."""
