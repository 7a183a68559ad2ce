namespace Orchestrator.Trials.Metrics;

/// <summary>What a dataset asks of the model and its loss.</summary>
public enum TaskKind
{
    /// <summary>Inputs → class logits; cross-entropy, accuracy.</summary>
    Classification,
    /// <summary>Inputs → values of the targets' shape; mean squared error.</summary>
    Regression,
    /// <summary>Token ids [B, T] → logits [B, T, V]; cross-entropy of each token against the next.</summary>
    CausalLm,
    /// <summary>
    /// Token ids and attention mask [B, 2, T] → class logits; cross-entropy, accuracy and macro-F1, measured on a
    /// validation split while training and on the test split at the end.
    /// </summary>
    TextClassification,
    /// <summary>
    /// Supervised fine-tuning of a Hugging Face decoder on TRL SFTTrainer rows ({"text"}, {"prompt", "completion"},
    /// {"messages"}): token ids, attention mask and position ids [B, 3, T] → logits [B, T, V]; next-token cross-entropy on
    /// the trained tokens only (targets -100 elsewhere), validation and test loss and perplexity.
    /// </summary>
    InstructionTuning,
    /// <summary>
    /// <see cref="InstructionTuning"/> on prompt/completion rows whose completions are a small set of labels: also the
    /// test accuracy of picking, per prompt, the label of highest log-likelihood.
    /// </summary>
    InstructionLabels,
}
