using Microsoft.Playwright;

namespace Orchestrator.Dashboard.Tests;

/// <summary>
/// Debian's Chromium (`apt-get install chromium`; scripts/setup.sh --test does it) driven by Playwright. Playwright's
/// own browser download cannot work here, so it is pointed at the system executable.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";
    private readonly IPlaywright _playwright;

    private Browser(IPlaywright playwright, IBrowser browser) { _playwright = playwright; Chromium = browser; }

    public IBrowser Chromium { get; }

    public static async Task<Browser> StartAsync()
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: run scripts/setup.sh --test (it installs Debian's chromium)");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
        return new Browser(playwright, browser);
    }

    /// <summary>A fresh page (own context) with a marker that a reload would erase.</summary>
    /// <param name="token">The dashboard's token, put in the tab's sessionStorage as if the user had typed it at the page's prompt.</param>
    public async Task<IPage> OpenAsync(string url, string? token = null)
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        if (token is not null)
            await context.AddInitScriptAsync($"sessionStorage.setItem('dashboard-token', {System.Text.Json.JsonSerializer.Serialize(token)});");
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        await page.GotoAsync(url);
        await page.EvaluateAsync("() => { window.__notReloaded = true; }");
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await Chromium.DisposeAsync();
        _playwright.Dispose();
    }
}
