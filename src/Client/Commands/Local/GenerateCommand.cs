using System.CommandLine;
using System.Text.Json;
using Orchestrator.Client.Output;
using Orchestrator.Trainer.Data.ChatTemplates;
using Orchestrator.Trainer.Generation;

namespace Orchestrator.Client.Commands.Local;

/// <summary>
/// <c>generate</c>: text from a Hugging Face decoder folder, or it with a PEFT adapter: greedy at temperature 0, sampled
/// with a seed otherwise. --messages (a JSON list of {role, content}) is rendered by the folder's chat template with the
/// generation prompt; so is --prompt, as one user message, when the folder has a template (--no-chat-template sends it
/// as is, with the tokenizer's BOS).
/// </summary>
public sealed class GenerateCommand : OrchestratorCommand
{
    private static readonly Option<string> ModelOption = new("--model") { Description = "A Hugging Face decoder folder (config.json, weights, tokenizer), or a named decoder (imdb-llama: its cached folder, pretrained first if absent).", Required = true };
    private static readonly Option<string?> AdapterOption = new("--adapter") { Description = "A PEFT LoRA adapter folder to apply to the model." };
    private static readonly Option<string?> PromptOption = new("--prompt") { Description = "The text to continue (a user message when the folder has a chat template)." };
    private static readonly Option<string?> MessagesOption = new("--messages") { Description = "A JSON file of the conversation so far: [{\"role\": \"user\", \"content\": \"...\"}, ...] (or {\"messages\": [...]})." };
    private static readonly Option<int> MaxNewTokensOption = new("--max-new-tokens") { Description = "At most this many new tokens (fewer at EOS).", DefaultValueFactory = _ => 64 };
    private static readonly Option<double> TemperatureOption = new("--temperature") { Description = "0: greedy; above 0: sample from softmax(logits / T).", DefaultValueFactory = _ => 0.0 };
    private static readonly Option<long> SeedOption = new("--seed") { Description = "Seed of the sampling (the same seed gives the same text).", DefaultValueFactory = _ => 0L };
    private static readonly Option<bool> NoChatTemplateOption = new("--no-chat-template") { Description = "Send --prompt as it is, without the folder's chat template." };

    public GenerateCommand() : base("generate", "Generate text with a decoder folder (and a PEFT adapter), greedy or seeded sampling, through its chat template.")
    {
        foreach (var option in new Option[] { ModelOption, AdapterOption, PromptOption, MessagesOption, MaxNewTokensOption, TemperatureOption, SeedOption, NoChatTemplateOption, ConsoleOutput.JsonOption })
            Options.Add(option);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var prompt = parseResult.GetValue(PromptOption);
        var messagesFile = parseResult.GetValue(MessagesOption);
        if ((prompt is null) == (messagesFile is null)) throw new UserInputException("give exactly one of --prompt TEXT or --messages FILE.", ExitCodes.UsageError);
        var maxNewTokens = parseResult.GetValue(MaxNewTokensOption);
        if (maxNewTokens < 1) throw new UserInputException($"--max-new-tokens must be at least 1, got {maxNewTokens}.");
        var temperature = parseResult.GetValue(TemperatureOption);
        if (!double.IsFinite(temperature) || temperature < 0) throw new UserInputException($"--temperature must be a number ≥ 0, got {temperature}.");
        var messages = messagesFile is null ? null : ReadMessages(messagesFile);

        using var decoder = LocalDecoder.Load(parseResult.GetValue(ModelOption)!, parseResult.GetValue(AdapterOption));
        var tokenizer = decoder.Tokenizer;
        string rendered;
        List<int> ids;
        try
        {
            var template = parseResult.GetValue(NoChatTemplateOption) && messages is null ? null : tokenizer.ChatTemplate();
            if (messages is not null && template is null)
                throw new UserInputException($"--messages needs a chat template, and '{tokenizer.Folder}' has none in tokenizer_config.json; use --prompt.");
            if (template is not null)
            {
                rendered = template.Render(messages ?? [new ChatMessage(ChatMessage.User, prompt!)], addGenerationPrompt: true, tokenizer.SpecialTokenNames);
                ids = tokenizer.Encode(rendered, addSpecialTokens: false);
            }
            else
            {
                rendered = prompt!;
                ids = tokenizer.Encode(rendered, addSpecialTokens: true);
            }
        }
        catch (ChatTemplateException e)
        {
            throw new UserInputException($"the chat template could not render the conversation: {e.Message}");
        }
        if (ids.Count == 0) throw new UserInputException("the prompt is empty.");
        if (ids.Count >= decoder.Model.MaxPositions)
            throw new UserInputException($"the prompt has {ids.Count} tokens; the model has {decoder.Model.MaxPositions} positions.");
        var stops = new HashSet<int>(new[] { tokenizer.EosId }.OfType<int>());
        var generated = TextGenerator.Generate(decoder.Model, ids, maxNewTokens, temperature, parseResult.GetValue(SeedOption), stops);
        var text = tokenizer.Decode(generated, skipSpecialTokens: true);

        if (output.IsJson)
        {
            output.Json(new { Prompt = rendered, PromptTokens = ids.Count, Completion = text, Tokens = generated, StoppedAtEos = generated.Count > 0 && stops.Contains(generated[^1]) });
            return Task.FromResult(ExitCodes.Success);
        }
        output.Line(text);
        return Task.FromResult(ExitCodes.Success);
    }

    private static List<ChatMessage> ReadMessages(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"--messages '{path}' does not exist.", ExitCodes.NotFound);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var list = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("messages", out var inner) ? inner : document.RootElement;
            if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
                throw new UserInputException($"--messages '{path}' must hold a non-empty JSON list of {{\"role\", \"content\"}} objects.");
            var messages = new List<ChatMessage>();
            var index = 0;
            foreach (var message in list.EnumerateArray())
            {
                index++;
                var role = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : null;
                var content = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : null;
                if (role is null || content is null) throw new UserInputException($"--messages '{path}': message {index} needs a string \"role\" and \"content\".");
                if (!ChatMessage.Roles.Contains(role)) throw new UserInputException($"--messages '{path}': message {index} has the unknown role '{role}'; roles are {string.Join(", ", ChatMessage.Roles)}.");
                messages.Add(new ChatMessage(role, content));
            }
            return messages;
        }
        catch (JsonException e)
        {
            throw new UserInputException($"--messages '{path}' is not valid JSON: {e.Message}");
        }
    }
}
