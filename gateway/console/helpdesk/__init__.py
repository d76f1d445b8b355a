"""The legal help desk's register: simulator runs and the cases answered with them."""
