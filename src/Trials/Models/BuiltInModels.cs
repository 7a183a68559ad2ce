namespace Orchestrator.Trials.Models;

/// <summary>
/// Names of the built-in models and the paths of their linear modules, known without building them, so a sweep
/// file can be checked before anything trains. The model classes must expose exactly these paths (a test checks).
/// </summary>
public static class BuiltInModels
{
    public const string Mlp = "mlp";
    public const string TransformerBlock = "transformer-block";
    public const string Llama = "llama";

    public static readonly IReadOnlyList<string> Names = [Mlp, TransformerBlock, Llama];

    /// <summary>Linear module paths of a built-in model with a fixed shape, or null (llama's depend on its config).</summary>
    public static IReadOnlyList<string>? LinearModules(string model) => model switch
    {
        Mlp => ["l1", "l2", "l3"],
        TransformerBlock => ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        _ => null,
    };
}
