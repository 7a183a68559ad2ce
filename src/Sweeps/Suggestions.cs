namespace Orchestrator.Sweeps;

/// <summary>"Did you mean" for unknown keys: known synonyms first, then the nearest allowed key by edit distance.</summary>
internal static class Suggestions
{
    public static string? DidYouMean(string key, IEnumerable<string> allowed, IReadOnlyDictionary<string, string>? synonyms = null)
    {
        var list = allowed.ToList();
        if (synonyms is not null && synonyms.TryGetValue(key.ToLowerInvariant(), out var syn) && list.Contains(syn)) return syn;
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in list)
        {
            var d = Levenshtein(key.ToLowerInvariant(), candidate);
            if (d < bestDistance) (best, bestDistance) = (candidate, d);
        }
        // One edit per three characters, at least one for names of three or more ("rnak" → rank, not "l4" → l1).
        int tolerance = best is null || best.Length < 3 ? 0 : Math.Max(1, best.Length / 3);
        return best is not null && bestDistance <= tolerance ? best : null;
    }

    public static string UnknownKey(string key, IEnumerable<string> allowed, IReadOnlyDictionary<string, string>? synonyms = null)
    {
        var list = allowed.ToList();
        var shown = YamlTree.Truncate(key);
        return DidYouMean(key, list, synonyms) is { } s
            ? $"unknown key '{shown}' (did you mean '{s}'?)"
            : $"unknown key '{shown}'; allowed: {string.Join(", ", list)}";
    }

    /// <summary>Edit distance counting an adjacent transposition as one edit (optimal string alignment).</summary>
    public static int Levenshtein(string a, string b)
    {
        if (a.Length > 256 || b.Length > 256) return int.MaxValue;
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i, j - 1] + 1, d[i - 1, j] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
