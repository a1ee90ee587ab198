print("sprite-sim: not yet implemented")
