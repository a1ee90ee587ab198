print("task: not yet implemented")
