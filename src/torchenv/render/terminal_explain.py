"""The terminal view of `torchenv explain`: the best match in full, the others as one line each."""

from __future__ import annotations

from rich.text import Text


def render_matches(matches, console, *, verbose: bool = False, facts_used: bool = False) -> None:
    shown = matches if verbose else matches[:1]
    for match in shown:
        console.print(
            Text.assemble(
                ("✗ ", "bold red"),
                (match.title, "bold"),
                (f"  [{match.id}] · {match.category}", "dim"),
            )
        )
        console.print(Text(f"  {match.meaning}"))
        console.print(Text.assemble(("  likely cause", "bold"), f" ({match.basis}): ", match.cause))
        others = [c for c in match.causes if c != match.cause]
        if others:
            console.print(Text("  other causes, most likely first:", style="bold"))
            for cause in others:
                console.print(Text(f"    · {cause}"))
        console.print(Text.assemble(("  fix: ", "bold green"), match.fix))
        if match.details and verbose:
            console.print(
                Text("  read from the message: " + ", ".join(f"{k}={v}" for k, v in match.details.items()), style="dim")
            )
        console.print(Text(f"  matched: {match.evidence[:200]}", style="dim"))
        console.print(Text(f"  source: {match.source} (retrieved {match.retrieved})", style="dim"))
    rest = matches[len(shown) :]
    if rest:
        console.print(Text("\nalso in the text (-v for details):", style="bold"))
        for match in rest:
            console.print(Text(f"  · {match.title}  [{match.id}] · {match.category}"))
    if not facts_used:
        console.print(Text("\n(explained from the message alone)", style="dim"))
