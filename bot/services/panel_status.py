"""`panelbot panel status`: the panel's composition against the census, as a plain table."""

from __future__ import annotations

from bot.services.area import AreaProfile
from bot.services.composition import Composition
from bot.services.representativeness import FeatureFit


def status_table(area: AreaProfile, composition: Composition, locality: str | None) -> str:
    """A summary line per feature, then its categories with the census and the targets."""
    where = area.localities[locality].name if locality else area.name
    target = f" (target {composition.target_size:,})" if composition.target_size else ""
    lines = [
        f"{where}: {composition.members:,} members{target}",
        "",
        f"{'feature':<14} {'D':>6} {'largest gap':>12}  {'Cohen w':>7}  worst represented (ratio)",
    ]
    for fit in composition.fits:
        lines.append(_summary(fit))
    for fit in composition.fits:
        lines += [
            "",
            f"{fit.feature:<18} {'members':>8} {'panel %':>8} {'census %':>9} "
            f"{'target':>7} {'gap pp':>7}",
        ]
        for share in fit.shares:
            wanted = composition.target(fit, share.category)
            lines.append(
                f"  {share.category:<16} {share.count:>8,} {share.panel * 100:>8.1f} "
                f"{share.target * 100:>9.1f} {'-' if wanted is None else f'{wanted:,}':>7} "
                f"{(share.panel - share.target) * 100:>+7.1f}"
            )
    return "\n".join(lines)


def _summary(fit: FeatureFit) -> str:
    worst = f"{fit.worst.category} ({fit.worst.ratio:.2f})" if fit.worst else "-"
    return (
        f"{fit.feature:<14} {fit.dissimilarity:>6.3f} {fit.largest_gap_pp:>9.1f} pp  "
        f"{fit.cohens_w:>7.3f}  {worst}"
    )
