"""A short narrative of a calculation, written by Anthropic's or OpenAI's model when configured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from greenlang_runtime import AgentRuntime

from .models import CalculationResult

__all__ = ["MODELS", "NOT_CONFIGURED", "Narrator"]

# Small, cheap models: a narrative of a few sentences needs no more. CBAM_LLM_MODEL overrides.
MODELS = {"anthropic": "claude-haiku-4-5", "openai": "gpt-4o-mini"}

NOT_CONFIGURED = (
    "explain needs an LLM provider: set ANTHROPIC_API_KEY (or OPENAI_API_KEY) in the "
    "agent's environment and restart it. The calculation is included."
)

_SYSTEM = (
    "You explain EU CBAM embedded-emission calculations to the importer who asked for them. "
    "Use only the figures given; do not add any. Plain text, at most four sentences."
)
_MAX_TOKENS = 300


class Narrator:
    """One provider's client, instrumented by the runtime for token and cost accounting.

    Args:
        provider: ``anthropic`` or ``openai``.
        api_key: the provider's key.
        model: the model to ask.
        base_url: another address for the provider's API (a proxy, a test server).
    """

    def __init__(
        self,
        provider: Literal["anthropic", "openai"],
        api_key: str,
        model: str,
        base_url: str | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self._api_key = api_key
        self._base_url = base_url
        self._client: Any = None

    def __repr__(self) -> str:
        return f"Narrator(provider={self.provider!r}, model={self.model!r})"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Narrator | None:
        """The narrator the keys in ``environ`` configure (Anthropic first), or ``None``."""
        for provider, prefix in (("anthropic", "ANTHROPIC"), ("openai", "OPENAI")):
            key = environ.get(f"{prefix}_API_KEY")
            if key:
                model = environ.get("CBAM_LLM_MODEL") or MODELS[provider]
                base_url = environ.get(f"{prefix}_BASE_URL") or None
                return cls(provider, key, model, base_url)  # type: ignore[arg-type]
        return None

    def open(self, runtime: AgentRuntime) -> None:
        """Create the provider's async client and let ``runtime`` count its tokens and cost."""
        # Imported here: the client libraries take a second or two to import.
        if self.provider == "anthropic":
            import anthropic

            client: Any = anthropic.AsyncAnthropic(api_key=self._api_key, base_url=self._base_url)
        else:
            import openai

            client = openai.AsyncOpenAI(api_key=self._api_key, base_url=self._base_url)
        self._client = runtime.instrument(client)

    async def narrate(self, result: CalculationResult) -> str:
        """The model's narrative of ``result``."""
        if self._client is None:
            raise RuntimeError("Narrator.open() has not run")
        prompt = "Explain this CBAM calculation:\n" + result.model_dump_json()
        if self.provider == "anthropic":
            message = await self._client.messages.create(
                model=self.model,
                max_tokens=_MAX_TOKENS,
                system=_SYSTEM,
                messages=[{"role": "user", "content": prompt}],
            )
            return "".join(block.text for block in message.content if block.type == "text")
        completion = await self._client.chat.completions.create(
            model=self.model,
            max_tokens=_MAX_TOKENS,
            messages=[
                {"role": "system", "content": _SYSTEM},
                {"role": "user", "content": prompt},
            ],
        )
        return str(completion.choices[0].message.content or "")

    async def close(self) -> None:
        """Close the client's connections."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()
