"""The documentation page of an explain ID (`torchenv findings ID`), written from its row of the error
knowledge (knowledge/data/errors.toml): what the message means, its causes, the fix and the source. The
row is the one copy, so the page says exactly what `torchenv explain` says. Formatting only."""

from __future__ import annotations


def render_error_page(row, *, layer: str) -> str:
    """`row` is a knowledge.errors.ErrorPattern; `layer` the layer explain gives its category."""
    severity = row.severity
    lines = [
        f"# {row.id}",
        "",
        f"**Category:** `{row.category}` · **Severity:** {severity} · **Layer:** {layer}",
        "",
        f"An error message `torchenv explain` recognises: **{row.title}**.",
        "",
        "## What it means",
        "",
        _unfilled(row.meaning),
        "",
        "## Likely causes, most common first",
        "",
    ]
    for cause in row.causes:
        when = ""
        if cause.when:
            said = "the message says so" if cause.when.startswith("text:") else f"{cause.when} holds"
            when = f" *(picked first when {said})*"
        lines.append(f"- {_unfilled(cause.text)}{when}")
    lines += ["", "## How to fix it", "", _unfilled(row.fix), ""]
    if row.symptom:
        lines += ["This message says what failed, not why: a cause found beside it is ranked first.", ""]
    lines += [
        "## How torchenv decides",
        "",
        "`torchenv explain` matches the message (log prefixes, ANSI codes and line wraps removed) against this "
        "row's patterns; the highest-ranked row that matches is the answer, and with this machine's facts "
        "(read without importing torch) a cause whose condition holds is picked first. In a report pasted "
        f"to `torchenv doctor --from`, the same message becomes the finding `reported-{row.id}`.",
        "",
        f"Source: {row.source} (retrieved {row.retrieved})",
        "",
    ]
    return "\n".join(lines)


def _unfilled(text: str) -> str:
    """`{gpu}`-style placeholders read as words on a page that has no message to fill them from."""
    return text.replace("{", "<").replace("}", ">")
