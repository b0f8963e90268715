"""The start itself: the sequence from notify to exec (launch.startup), with its side
effects passed in as values (launch.effects)."""
