"""What a function does with a weight stream: sources, flow, keeps, consumes, summaries, safety.

Nothing here imports a rule: the rules (`eagerlint/rules/`) are thin reporters over these answers.
"""
