using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Orchestration.Tests;

/// <summary>ORCHESTRATOR_PORT_RANGE: the test command's lanes draw ports from disjoint ranges.</summary>
public sealed class FreePortRangeTests
{
    [Theory]
    [InlineData("20768-26768", 20768, 26768)]
    [InlineData(" 2000 - 2100 ", 2000, 2100)]
    public void A_well_formed_range_is_taken(string text, int low, int high) =>
        Assert.Equal((low, high), FreePort.ParseRange(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("20768")]
    [InlineData("80-2000")]      // below 1024
    [InlineData("30000-30050")]  // fewer than 100 ports
    [InlineData("60000-70000")]  // past 65535
    [InlineData("a-b")]
    [InlineData("1-2-3")]
    public void A_malformed_range_falls_back_to_the_default(string? text) => Assert.Null(FreePort.ParseRange(text));

    [Fact]
    public void Ports_are_drawn_inside_the_range_of_this_process()
    {
        var range = FreePort.ParseRange(Environment.GetEnvironmentVariable(EnvironmentVariables.FreePortRange));
        var port = FreePort.Next();
        if (range is var (low, high)) Assert.InRange(port, low, high - 1);
        else Assert.InRange(port, 1024, 65535);
    }
}
