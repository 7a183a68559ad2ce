using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Trainer.Data.ChatTemplates;
using Xunit.Abstractions;

namespace Orchestrator.Trainer.Tests.ChatTemplates;

/// <summary>
/// The renderer against Debian's python3-jinja2 configured as transformers configures it
/// (References/render_chat_templates.py), byte for byte, on the real templates of Llama 3, Llama 3.3, Qwen2.5 (ChatML),
/// Mixtral (Mistral [INST]), Gemma and Phi-3, with and without system messages, multi-turn, and with and without
/// add_generation_prompt; a template that raises must raise the same message in both.
/// </summary>
public sealed class ChatTemplateParityTests(ITestOutputHelper output)
{
    internal const string Python = "/usr/bin/python3";

    private static readonly Dictionary<string, Dictionary<string, string>> Tokens = new()
    {
        ["meta-llama-3-8b-instruct.jinja"] = new() { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>" },
        ["llama-3.3-70b-instruct.jinja"] = new() { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>" },
        ["qwen2.5-7b-instruct.jinja"] = new() { ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>" },
        ["mixtral-8x7b-instruct-v0.1.jinja"] = new() { ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["unk_token"] = "<unk>" },
        ["gemma-7b-it.jinja"] = new() { ["bos_token"] = "<bos>", ["eos_token"] = "<eos>", ["pad_token"] = "<pad>" },
        ["phi-3-mini-4k-instruct.jinja"] = new() { ["bos_token"] = "<s>", ["eos_token"] = "<|endoftext|>" },
    };

    private static readonly ChatMessage[][] Conversations =
    [
        [new("system", "You are a helpful assistant"), new("user", "Hello")],
        [new("user", "Hello"), new("assistant", "Hi there"), new("user", "Who are you")],
        [new("system", "You are a helpful assistant"), new("user", "Hello"), new("assistant", "Hi there"), new("user", "Who are you"),
         new("assistant", "   I am an assistant   "), new("user", "Another question")],
        [new("user", "What is 2+2?"), new("assistant", "4")],
        [new("system", "  Be terse.\n"), new("user", "Café ☕ \"quoted\" and 'single'\nsecond line"), new("assistant", "Noted.\n\nTwo paragraphs.")],
        [new("user", "One")],
        [new("user", "a"), new("user", "b")],
    ];

    [Fact]
    public void Real_chat_templates_render_byte_for_byte_as_jinja2_configured_like_transformers()
    {
        var cases = new List<(string Name, string Template, ChatMessage[] Messages, bool Prompt, Dictionary<string, string> Tokens)>();
        foreach (var (file, tokens) in Tokens)
        {
            var template = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "ChatTemplates", "Templates", file));
            for (var c = 0; c < Conversations.Length; c++)
            {
                foreach (var prompt in new[] { false, true }) cases.Add(($"{file} #{c} add_generation_prompt={prompt}", template, Conversations[c], prompt, tokens));
            }
        }

        var expected = RenderWithJinja2(cases.Select(c => (c.Template, c.Messages, c.Prompt, c.Tokens)).ToList());
        var identical = 0;
        var raised = 0;
        var mismatches = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            var (name, template, messages, prompt, tokens) = cases[i];
            string actual;
            try
            {
                actual = "output:" + ChatTemplate.Parse(template).Render(messages, prompt, tokens);
            }
            catch (ChatTemplateException e) when (e.RaisedByTemplate)
            {
                actual = "error:" + e.Message;
            }
            if (actual == expected[i]) identical++;
            else mismatches.Add($"{name}\n  jinja2: {JsonSerializer.Serialize(expected[i])}\n  ours:   {JsonSerializer.Serialize(actual)}");
            if (expected[i].StartsWith("error:", StringComparison.Ordinal)) raised++;
        }
        output.WriteLine($"{identical} of {cases.Count} cases byte-identical over {Tokens.Count} templates ({raised} raise in both)");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.Equal(84, cases.Count);
        Assert.InRange(raised, 1, 40); // Gemma refuses system messages and Mixtral/Gemma unalternated roles, in both
    }

    /// <summary>A template using every construct the renderer supports (outside the real ones' paths too), against jinja2.</summary>
    [Fact]
    public void Every_supported_construct_renders_as_jinja2_renders_it()
    {
        var templates = new[]
        {
            "{%- set ns = namespace(found=false, n=0) %}{% for m in messages %}{% if m.role == 'system' %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.found }} {{ ns.n }}",
            "{% for m in messages[1:] %}{{ loop.index }}/{{ loop.length }}{{ '|' if not loop.last }}{% endfor %}",
            "{% for m in messages[::-1] if m.role != 'system' %}{{ m.content|upper }}{% else %}none{% endfor %}",
            "{{ messages|length }} {{ messages[-1]['content'][:3] }} {{ messages|map(attribute='role')|join(', ') }}",
            "{{ messages[0] | tojson }}\n{{ messages[0] | tojson(indent=2) }}\n{{ {'b': [1, 2.5, none, true], 'a': 'x\\ny'} | tojson }}",
            "{% for k, v in messages[0].items() %}{{ k }}={{ v }};{% endfor %}{{ messages[0]|items|list|length }}",
            "{% if 'sys' in messages[0].role and messages[0].role is string %}yes{% elif x is defined %}x{% else %}no{% endif %}",
            "{{ 7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 3 }} {{ 1 ~ 2 }} {{ 'a' * 3 }} {{ 1 + 2.0 }}",
            "{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}",
            "  {%- if true -%}  \n  trimmed  \n  {%- endif -%}  \n{# a comment #}\n    {% if true %}\n    kept indent? \n    {% endif %}\nend\n",
            "{% set x = messages[0].content.strip().split(' ') %}{{ x }} {{ x|first }} {{ x|last|title }} {{ ' pad '|trim }}|{{ undefined_name }}|{{ undefined_name|default('d') }}",
            "{{ none }} {{ true }} {{ 1.0 }} {{ 0.1 }} {{ [1, 'a'] }} {{ messages[5] is defined }} {{ (messages|selectattr('role', 'equalto', 'user')|list|length) }}",
            "{% set a, b = 1, 2 %}{{ a + b }}{% for m in messages %}{% set inner = m.role %}{% endfor %}{{ inner is defined }}",
            "{{ messages[0].get('role') }} {{ messages[0].get('missing', 'fallback') }} {{ messages[0].missing is undefined }} {{ 'x' if false }}|",
        };
        var messages = new[] { new ChatMessage("system", " sys tem "), new ChatMessage("user", "hello world"), new ChatMessage("assistant", "é ☕ \"q\"") };
        var tokens = new Dictionary<string, string> { ["bos_token"] = "<s>" };
        var expected = RenderWithJinja2(templates.Select(t => (t, messages, false, tokens)).ToList());
        for (var i = 0; i < templates.Length; i++)
        {
            var actual = "output:" + ChatTemplate.Parse(templates[i]).Render(messages, false, tokens);
            Assert.True(expected[i] == actual, $"template {i}: {templates[i]}\n  jinja2: {JsonSerializer.Serialize(expected[i])}\n  ours:   {JsonSerializer.Serialize(actual)}");
        }
    }

    /// <summary>Renders each case with References/render_chat_templates.py: "output:" + text, or "error:" + the raised message.</summary>
    internal static List<string> RenderWithJinja2(List<(string Template, ChatMessage[] Messages, bool Prompt, Dictionary<string, string> Tokens)> cases)
    {
        var input = new JsonArray(cases.Select(c => (JsonNode)new JsonObject
        {
            ["template"] = c.Template,
            ["messages"] = new JsonArray(c.Messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
            ["add_generation_prompt"] = c.Prompt,
            ["special_tokens"] = new JsonObject(c.Tokens.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        }).ToArray());
        var script = Path.Combine(AppContext.BaseDirectory, "References", "render_chat_templates.py");
        var start = new ProcessStartInfo(Python, [script])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardOutputEncoding = System.Text.Encoding.UTF8, StandardInputEncoding = new System.Text.UTF8Encoding(false),
        };
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        using var process = Process.Start(start)!;
        process.StandardInput.Write(input.ToJsonString());
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{Python} {script} failed: {stderr}");
        var results = JsonNode.Parse(stdout.Result)!.AsArray();
        return results.Select(r => r!["output"] is { } o ? "output:" + o.GetValue<string>() : "error:" + r["error"]!.GetValue<string>()).ToList();
    }
}
