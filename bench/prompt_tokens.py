"""Prompt tokens the batched llama.cpp engine evaluates, zero-shot vs shots, for a config's translation tasks.

    python bench/prompt_tokens.py [--config configs/default.yaml] [--model qwen2.5-coder-0.5b-instruct]

For each translation task of the config (its items, its prompt), with the model's own tokenizer
and chat template (only the vocabulary is loaded), it prints the tokens in the prompts, the prefix
every prompt shares (evaluated once by the batched engine) and the tokens evaluated, for:

- zero-shot;
- one shot per item: the task's rule (from another article, seeded by the item id), drawn here
  from the selected items;
- one fixed shot for every item: the first item of the last article as the shot, for the items of
  the other articles (the items of the shot's own article are left out: they would need another
  shot, i.e. a second prefix group).

docs/models.md ("Shots or no shots") quotes its output for configs/default.yaml.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"))
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    args = parser.parse_args()

    from harness.config import load_config
    from harness.generate import gguf
    from harness.generate.llama_batch import shared_prefix_length
    from harness.pipeline.plan import plan_run
    from harness.tasks import select_shots

    config = load_config(Path(args.config))
    plan = plan_run(config)
    backend = gguf.load(gguf.GGUFSettings(model=args.model, engine="llama.cpp"))  # vocabulary only

    def evaluated(prompts) -> tuple[int, int, int]:
        tokens = [backend.llama.encode(backend.render(p)) for p in prompts]
        prefix = shared_prefix_length(tokens)
        total = sum(len(t) for t in tokens)
        return total, prefix, total - (len(tokens) - 1) * prefix

    print(f"config {args.config}, model {args.model}\n")
    print("| task | prompts | tokens in the prompts | shared prefix | tokens evaluated |\n|---|---:|---:|---:|---:|")
    for name, task in plan.tasks.items():
        if task.definition.kind != "translation":
            continue
        items = task.items
        shot_item = next(it for it in items if it.doc_id == items[-1].doc_id)
        shot = [(shot_item.source, shot_item.references[0])]
        rows = {
            "zero-shot": [task.template.build(it.source) for it in items],
            "one shot per item": [task.template.build(it.source, select_shots(it, items, 1, config.seed)) for it in items],
            f"one fixed shot (from {shot_item.id}; its article left out)":
                [task.template.build(it.source, shot) for it in items if it.doc_id != shot_item.doc_id],
        }
        for label, prompts in rows.items():
            total, prefix, ev = evaluated(prompts)
            print(f"| {name}, {label} | {len(prompts)} | {total:,} | {prefix} | {ev:,} |")
    backend.close()


if __name__ == "__main__":
    main()
