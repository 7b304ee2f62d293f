"""The terminal view of `torchenv explain`: the best match in full, the others as one line each
(each an ExplainMatch: its finding, and the causes explain adds)."""

from __future__ import annotations

from rich.text import Text


def render_matches(matches, console, *, verbose: bool = False, facts_used: bool = False) -> None:
    shown = matches if verbose else matches[:1]
    for match in shown:
        finding = match.finding
        console.print(
            Text.assemble(
                ("✗ ", "bold red"),
                (finding.title, "bold"),
                (f"  [{finding.id}] · {finding.category}", "dim"),
            )
        )
        console.print(Text(f"  {finding.explanation}"))
        console.print(Text.assemble(("  likely cause", "bold"), f" ({match.cause_basis}): ", match.cause))
        others = [c for c in match.causes if c != match.cause]
        if others:
            console.print(Text("  other causes, most likely first:", style="bold"))
            for cause in others:
                console.print(Text(f"    · {cause}"))
        console.print(Text.assemble(("  fix: ", "bold green"), finding.fix or ""))
        if match.details and verbose:
            console.print(
                Text("  read from the message: " + ", ".join(f"{k}={v}" for k, v in match.details.items()), style="dim")
            )
        console.print(Text(f"  matched: {finding.evidence[0][:200]}", style="dim"))
        console.print(Text(f"  source: {finding.source} (retrieved {match.retrieved})", style="dim"))
    rest = matches[len(shown) :]
    if rest:
        console.print(Text("\nalso in the text (-v for details):", style="bold"))
        for match in rest:
            finding = match.finding
            console.print(Text(f"  · {finding.title}  [{finding.id}] · {finding.category}"))
    if not facts_used:
        console.print(Text("\n(explained from the message alone)", style="dim"))
