"""RigFit's engine: memory, speed, power, heat and system answers as pure functions."""
