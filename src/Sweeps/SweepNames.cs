using System.Text;
using Orchestrator.Contracts.Sweeps;

namespace Orchestrator.Sweeps;

/// <summary>Turns a W&amp;B free-text sweep name (or a file name) into a valid <see cref="SweepName"/>.</summary>
public static class SweepNames
{
    /// <summary>Lower-case letters and digits kept, every other run of characters one dash, at most 63 characters; null when nothing is left.</summary>
    public static string? Slug(string text)
    {
        var slug = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-') slug.Append('-');
            if (slug.Length >= SweepName.MaxLength) break;
        }
        var result = slug.ToString().Trim('-');
        return result.Length == 0 ? null : result;
    }
}
