using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Contracts.Trials;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.HuggingFace;
using Orleans.Serialization;

namespace Orchestrator.Orchestration.Tests;

/// <summary>A lease carries the typed config between grains and workers (as its JSON, <see cref="TrialModelSurrogates"/>).</summary>
public sealed class TrialLeaseSerializationTests
{
    [Fact]
    public void A_lease_carries_every_typed_value_of_its_config_across_the_orleans_serializer()
    {
        using var services = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(TrialLease).Assembly)).BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var config = new TrainingConfig
        {
            Model = "llama", Dataset = "text", Adapter = AdapterKind.Lora, Bias = BiasMode.LoraOnly, Schedule = ScheduleKind.Cosine,
            Init = LoraInitMethod.PissaNiter(3), Pooling = EncoderPooling.Mean, BaseDtype = BaseDtype.Bf16, Quantize = QuantizeMode.Nf4,
        };
        var lease = new TrialLease("s", "t1", 1, TrialKind.Lora, config, new BaseModelSpec(), [], 0, "llama", "text");

        var copy = serializer.Deserialize<TrialLease>(serializer.SerializeToArray(lease))!.Config;

        Assert.Equal(
            (AdapterKind.Lora, BiasMode.LoraOnly, ScheduleKind.Cosine, LoraInitMethod.PissaNiter(3), (EncoderPooling?)EncoderPooling.Mean, (BaseDtype?)BaseDtype.Bf16, (QuantizeMode?)QuantizeMode.Nf4),
            (copy.Adapter, copy.Bias, copy.Schedule, copy.Init, copy.Pooling, copy.BaseDtype, copy.Quantize));
        Assert.Equal(JsonSerializer.Serialize(config), JsonSerializer.Serialize(copy));
    }
}
