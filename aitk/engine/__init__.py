"""The shared engine: devices, progress events, media, model sources, errors and safe file output.

Nothing here imports typer or rich; the CLI renders what the engine reports.
"""
