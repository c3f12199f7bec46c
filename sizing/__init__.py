"""RigFit's engine: memory, speed, power and purchase answers as pure functions."""
