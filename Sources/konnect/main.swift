// Entry point: `konnect serve` and the client commands.
print("konnect: not implemented yet")
