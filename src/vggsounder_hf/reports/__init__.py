"""Tables, the meta-label and confused-clips reports, plots and release statistics."""
