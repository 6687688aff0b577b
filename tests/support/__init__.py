"""What many test folders share: one definition each of the fast retry policy, the simulator
fixture, the environment a `possync` command runs in, and the ways to run that command."""
