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
}
