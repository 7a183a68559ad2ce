using Orchestrator.Trainer.Data.ChatTemplates;

namespace Orchestrator.Trainer.Tests.ChatTemplates;

public sealed class ChatTemplateRefusalTests
{
    [Theory]
    [InlineData("{% macro greet(name) %}hi {{ name }}{% endmacro %}", "macro")]
    [InlineData("{% include 'other.jinja' %}", "include")]
    [InlineData("{% filter upper %}x{% endfilter %}", "filter")]
    [InlineData("{% raw %}{{ x }}{% endraw %}", "raw")]
    [InlineData("{% set block %}x{% endset %}", "block set")]
    [InlineData("{{ messages | wordcount }}", "wordcount")]
    [InlineData("{{ messages is callable }}", "callable")]
    public void A_construct_outside_the_rendered_subset_is_refused_by_name(string template, string construct)
    {
        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(template).Render([new ChatMessage("user", "hi")], false));
        Assert.Contains(construct, error.Message);
        Assert.False(error.RaisedByTemplate);
    }

    [Fact]
    public void Raise_exception_carries_the_templates_own_message()
    {
        var template = ChatTemplate.Parse("{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}");
        var error = Assert.Throws<ChatTemplateException>(() => template.Render([new ChatMessage("system", "s")], false));
        Assert.Equal("System role not supported", error.Message);
        Assert.True(error.RaisedByTemplate);
    }

    [Fact]
    public void An_unclosed_block_names_what_is_missing()
    {
        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("{% for m in messages %}{{ m.content }}"));
        Assert.Contains("endfor", error.Message);
    }
}
