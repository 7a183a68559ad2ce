using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trials.Models.Named;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// Turns the names a config may use for a model or a dataset (<see cref="NamedEncoders"/>, <see cref="NamedDatasets"/>)
/// into local paths the trainer reads. The config keeps the names (result.json, leaderboards and reproduce see
/// `minilm-l6`, not a cache path); only loading uses the paths. Called on the trial's own thread, so it may block.
/// </summary>
public interface INamedResources
{
    /// <summary>A local Hugging Face folder holding the named encoder.</summary>
    string ModelFolder(NamedEncoder model, CancellationToken cancellationToken);

    /// <summary>A local folder of train/validation/test files holding the named dataset.</summary>
    string DatasetFolder(string dataset, CancellationToken cancellationToken);

    /// <summary>A local Hugging Face folder holding the named decoder, pretrained here once (<see cref="DecoderPretraining"/>).</summary>
    string DecoderFolder(NamedDecoder model, CancellationToken cancellationToken);
}

/// <summary>Applies an <see cref="INamedResources"/> to a config: names become paths, everything else stays.</summary>
public static class NamedResourceResolution
{
    /// <exception cref="NamedResourceUnavailableException">The config names a model or dataset and no resolver was given.</exception>
    public static TrainingConfig Resolve(TrainingConfig config, INamedResources? resources, CancellationToken cancellationToken)
    {
        var encoder = NamedEncoders.Find(config.Model);
        var decoder = NamedDecoders.Find(config.Model);
        var namedDataset = NamedDatasets.IsLabelledText(config.Dataset) || NamedDatasets.IsInstructionLabels(config.Dataset);
        if (encoder is null && decoder is null && !namedDataset) return config;
        var namedModel = encoder is not null || decoder is not null;
        if (resources is null)
            throw new NamedResourceUnavailableException(
                $"'{(namedModel ? config.Model : config.Dataset)}' is a named {(namedModel ? "model" : "dataset")}, and this trainer was given nowhere to fetch it from");
        return config with
        {
            Model = encoder is not null ? resources.ModelFolder(encoder, cancellationToken)
                : decoder is not null ? resources.DecoderFolder(decoder, cancellationToken)
                : config.Model,
            // A named encoder's pooling is part of what its name means (a folder converted before its pooling file was written has none).
            Pooling = config.Pooling ?? encoder?.Config.Pooling,
            Dataset = namedDataset ? resources.DatasetFolder(config.Dataset.ToLowerInvariant(), cancellationToken) : config.Dataset,
        };
    }
}

/// <summary>A named model or dataset could not be made available; the message says why and what to do.</summary>
public sealed class NamedResourceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
