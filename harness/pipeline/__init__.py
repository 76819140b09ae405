"""`harness run`'s job, one stage per module:

    plan     plan_run: load items, prompts and shots; check every backend's inputs (no model loaded)
    run      evaluate: one GenerationSession per model (harness.generate.session) fits each prompt
             into the context, cache first, generates the rest; make_prediction post-processes
             (named rules, raw and cleaned output both kept); write_run writes the folder and
             its manifest
    rescore  score from the stored predictions (also `harness rescore`)
    render   the exact prompts each model receives (`harness render`)

Every prediction records `input_tokens` and `truncated` (the truncation rule is in
harness/generate/session.py).
"""
