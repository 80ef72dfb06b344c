"""The reference CLI agent: a plain synchronous urllib loop (stream, parse SSE, run the tool).

python reference.py BASE_URL WORKSPACE: what a minimal agent costs, the floor of figure C.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file of the workspace.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
            },
        },
    }
]


def turn(base: str, messages: list[dict]) -> dict:
    body = {"model": "fake-model", "messages": messages, "tools": TOOLS, "stream": True}
    request = urllib.request.Request(
        f"{base}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-bench"},
    )
    text, calls = [], {}
    with urllib.request.urlopen(request) as resp:
        for raw in resp:
            line = raw.decode().strip()
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            for choice in json.loads(line[5:]).get("choices", []):
                delta = choice.get("delta", {})
                if delta.get("content"):
                    text.append(delta["content"])
                for tc in delta.get("tool_calls") or []:
                    call = calls.setdefault(tc["index"], {"id": "", "name": "", "args": []})
                    call["id"] = tc.get("id") or call["id"]
                    fn = tc.get("function") or {}
                    call["name"] = fn.get("name") or call["name"]
                    call["args"].append(fn.get("arguments") or "")
    message: dict = {"role": "assistant", "content": "".join(text)}
    if calls:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": "".join(c["args"])},
            }
            for c in calls.values()
        ]
    return message


def main(base: str, workspace: str) -> None:
    messages: list[dict] = [
        {"role": "system", "content": "You are a coding agent."},
        {"role": "user", "content": "Read the files, then explain."},
    ]
    while True:
        message = turn(base, messages)
        messages.append(message)
        if "tool_calls" not in message:
            break
        for call in message["tool_calls"]:
            path = json.loads(call["function"]["arguments"])["path"]
            text = (Path(workspace) / path).read_text()
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": text})
    sys.stdout.write(messages[-1]["content"][-40:] + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
