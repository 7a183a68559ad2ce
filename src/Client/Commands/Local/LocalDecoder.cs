using Orchestrator.Trainer.Data.Tokenizers;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Safetensors;
using static TorchSharp.torch;

namespace Orchestrator.Client.Commands.Local;

/// <summary>A Hugging Face decoder folder loaded for `eval` and `generate`: the model (with a PEFT adapter on it when given) and its tokenizer.</summary>
internal sealed class LocalDecoder : IDisposable
{
    private LocalDecoder(ICausalLanguageModel model, ModelTokenizer tokenizer)
    {
        Model = model;
        Tokenizer = tokenizer;
    }

    public ICausalLanguageModel Model { get; }
    public nn.Module<Tensor, Tensor> Module => (nn.Module<Tensor, Tensor>)Model;
    public ModelTokenizer Tokenizer { get; }

    /// <summary>
    /// The folder <paramref name="model"/> names: a named decoder (`imdb-llama`) is its cached folder, pretrained here
    /// first when this machine has none; anything else is taken as a folder.
    /// </summary>
    public static string FolderOf(string model) =>
        Orchestrator.Trials.Models.Named.NamedDecoders.Find(model) is { } named
            ? new Orchestrator.Models.Sharing.NamedResourceFolders().DecoderFolder(named, CancellationToken.None)
            : model;

    /// <exception cref="UserInputException">The folder or adapter is missing or unreadable, named.</exception>
    public static LocalDecoder Load(string modelFolder, string? adapterFolder)
    {
        modelFolder = FolderOf(modelFolder);
        if (!Directory.Exists(modelFolder) || !File.Exists(Path.Combine(modelFolder, "config.json")))
            throw new UserInputException($"--model '{modelFolder}' is not a Hugging Face model folder (a folder with config.json and the weights).", ExitCodes.NotFound);
        if (adapterFolder is not null && !Directory.Exists(adapterFolder))
            throw new UserInputException($"--adapter '{adapterFolder}' is not a folder; give a PEFT adapter folder (adapter_config.json, adapter_model.safetensors).", ExitCodes.NotFound);
        ICausalLanguageModel? model = null;
        try
        {
            var tokenizer = ModelTokenizer.Load(modelFolder);
            model = CausalLanguageModels.FromPretrained(modelFolder);
            if (adapterFolder is not null) PeftAdapterLoader.Apply((nn.Module)model, adapterFolder);
            ((nn.Module)model).eval();
            return new LocalDecoder(model, tokenizer);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or LoraTargetException or SafetensorsFormatException
                                      or ArgumentException or Orchestrator.Trainer.Data.ChatTemplates.ChatTemplateException)
        {
            model?.Dispose();
            throw new UserInputException(e.Message);
        }
    }

    public void Dispose() => Model.Dispose();
}
