"""The transformers engine of the `gguf` backend, for machines without llama.cpp.

`from_pretrained(dir, gguf_file=...)` dequantises the GGUF file to float32 once, and the result is
saved as a safetensors folder keyed by the GGUF sha256 (`<cache>/models/converted/`), so later
loads take seconds. The model then runs on the `hf` backend's engine (its batching, padding and
stop handling) under the `gguf` backend's identity and prompts (`harness.generate.gguf_model`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.generate.base import BackendInfo
from harness.generate.catalogue import CatalogueModel
from harness.generate.gguf_files import models_dir
from harness.generate.gguf_model import GGUFModel
from harness.generate.hf_backend import BatchSize, HFBackend, HFSettings
from harness.io import staged_folder, write_json
from harness.request import Completion, GenerationSettings, Prompt, Rendered


def converted_dir(entry: CatalogueModel) -> Path:
    return models_dir() / "converted" / f"{entry.sha256[:16]}-{entry.name}"


def convert_to_safetensors(entry: CatalogueModel, gguf_path: Path, chat_template: str | None) -> Path:
    """Dequantise the GGUF with transformers once; later loads read the float32 safetensors folder."""
    folder = converted_dir(entry)
    if (folder / "harness-converted.json").is_file():
        return folder
    import torch  # heavy: only the transformers engine needs it
    from transformers import AutoModelForCausalLM, AutoTokenizer  # heavy: as above

    with staged_folder(folder) as partial:  # swapped in whole, or removed on any error
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32)
        if chat_template is not None:
            tokenizer.chat_template = chat_template
        # The weights are plain float32 tensors now; transformers still tags the model as "gguf
        # quantized", which only blocks saving it.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(partial, safe_serialization=True)
        tokenizer.save_pretrained(partial)
        write_json(partial / "harness-converted.json", {"gguf_sha256": entry.sha256, "model": entry.name, "dtype": "float32"})
    return folder



class GGUFTransformersBackend(HFBackend):
    """The `hf` engine on a converted catalogue model: the gguf identity, prompts and stops."""

    def __init__(self, model, tokenizer, settings: HFSettings, gguf: GGUFModel):
        super().__init__(model, tokenizer, settings, source={"gguf_sha256": gguf.entry.sha256}, device="cpu",
                         dtype="float32", chat_template=gguf.chat_template, context_length=gguf.n_ctx)
        self.gguf = gguf

    def identity(self) -> dict:
        import torch  # heavy: only the transformers engine needs it
        import transformers  # heavy: as above

        return {**self.gguf.identity(), "engine_version": transformers.__version__,
                "torch_version": torch.__version__, "dtype": "float32"}

    def render(self, prompt: Prompt) -> str:
        return self.gguf.render(prompt)

    def info(self) -> BackendInfo:
        return BackendInfo(engine=self.gguf.engine, details={**self.gguf.details(), **super().info().details})

    def generate(self, batch: Sequence[Rendered], settings: GenerationSettings) -> Iterator[Completion]:
        yield from super().generate(batch, self.gguf.stops(settings, batch))


def load_transformers(folder: Path, gguf: GGUFModel, batch_size: BatchSize) -> GGUFTransformersBackend:
    """The converted folder on the `hf` engine."""
    import torch  # heavy: only the transformers engine needs it
    from transformers import AutoModelForCausalLM, AutoTokenizer  # heavy: as above
    from transformers.utils import logging as hf_logging  # heavy: as above

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the harness draws its own progress
    try:
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    finally:
        if shown:
            hf_logging.enable_progress_bar()
    model.eval()
    settings = HFSettings(model=str(folder), dtype="float32", device="cpu", batch_size=batch_size,
                          chat_template="auto" if gguf.chat_template else "none", context_length=gguf.n_ctx)
    return GGUFTransformersBackend(model, tokenizer, settings, gguf)
