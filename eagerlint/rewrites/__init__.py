"""One module per rewrite; each turns a matched node into text edits."""
