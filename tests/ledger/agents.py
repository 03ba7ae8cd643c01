"""Source of the agents the ledger tests serve: every call form of the official clients."""

from __future__ import annotations

# Served with greenlang-runtime run; FAKE_LLM_URL points at the test's fake server.
CALLS_AGENT = """
import asyncio
import os

import anthropic
import openai

from greenlang_runtime import AgentRuntime

runtime = AgentRuntime()
URL = os.environ["FAKE_LLM_URL"]
claude = runtime.instrument(anthropic.Anthropic(base_url=URL, api_key="test", max_retries=0))
aclaude = runtime.instrument(
    anthropic.AsyncAnthropic(base_url=URL, api_key="test", max_retries=0)
)
gpt = runtime.instrument(openai.OpenAI(base_url=URL + "/v1", api_key="test", max_retries=0))
agpt = runtime.instrument(
    openai.AsyncOpenAI(base_url=URL + "/v1", api_key="test", max_retries=0)
)
SONNET, GPT, EMBED = "claude-sonnet-4-5", "gpt-4o", "text-embedding-3-small"
ASK = {"max_tokens": 64, "messages": [{"role": "user", "content": "Hello"}]}


def chat(model=GPT):
    return {"model": model, "messages": [{"role": "user", "content": "Hello"}]}


@runtime.on_startup
def warm_up():
    # Outside any capability: its row has no capability.
    claude.messages.create(model=SONNET, **ASK)


@runtime.capability
def sync_call(payload):
    form = payload["form"]
    if form == "messages.create":
        claude.messages.create(model=SONNET, **ASK)
    elif form == "messages.create(stream)":
        for _ in claude.messages.create(model=SONNET, stream=True, **ASK):
            pass
    elif form == "messages.stream":
        with claude.messages.stream(model=SONNET, **ASK) as stream:
            stream.get_final_message()
    elif form == "chat.create":
        gpt.chat.completions.create(**chat(payload.get("model", GPT)))
    elif form == "chat.create(stream)":
        for _ in gpt.chat.completions.create(stream=True, **chat()):
            pass
    elif form == "responses.create":
        gpt.responses.create(model=GPT, input="Hello")
    elif form == "responses.create(stream)":
        for _ in gpt.responses.create(model=GPT, input="Hello", stream=True):
            pass
    elif form == "embeddings.create":
        gpt.embeddings.create(model=EMBED, input="a")
    elif form == "error":
        try:
            claude.messages.create(model=SONNET, **ASK)
        except anthropic.InternalServerError:
            return {"raised": True}
    elif form == "abandoned":
        stream = claude.messages.create(model=SONNET, stream=True, **ASK)
        for event in stream:
            if event.type == "content_block_delta":
                break
        stream.close()
    return {}


@runtime.capability
async def async_call(payload):
    form = payload["form"]
    if form == "messages.create":
        await aclaude.messages.create(model=SONNET, **ASK)
    elif form == "messages.create(stream)":
        async for _ in await aclaude.messages.create(model=SONNET, stream=True, **ASK):
            pass
    elif form == "messages.stream":
        async with aclaude.messages.stream(model=SONNET, **ASK) as stream:
            await stream.get_final_message()
    elif form == "chat.create":
        await agpt.chat.completions.create(**chat())
    elif form == "chat.create(stream)":
        async for _ in await agpt.chat.completions.create(stream=True, **chat()):
            pass
    elif form == "responses.create":
        await agpt.responses.create(model=GPT, input="Hello")
    elif form == "responses.create(stream)":
        async for _ in await agpt.responses.create(model=GPT, input="Hello", stream=True):
            pass
    elif form == "embeddings.create":
        await agpt.embeddings.create(model=EMBED, input="a")
    return {}


async def call_later():
    await asyncio.sleep(float(os.environ.get("LATER_SECONDS", "0.5")))
    await aclaude.messages.create(model=SONNET, **ASK)


@runtime.capability
async def later(payload):
    # Work that outlives the request: its call belongs to this capability too.
    runtime.create_task(call_later(), name="later-call")
    return {}


@runtime.capability
async def burst(payload):
    # Many calls at once, each one row.
    await asyncio.gather(
        *(agpt.chat.completions.create(**chat()) for _ in range(payload["calls"]))
    )
    return {}
"""
