using System.Text.Json;

namespace Orchestrator.Cli.Tests;

/// <summary>`lora params` and `estimate --model` on a decoder folder that holds only Llama-2-7B's config.json.</summary>
public sealed class DecoderCountVerbTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("llama-2-7b-config-").FullName;

    public DecoderCountVerbTests() =>
        File.WriteAllText(Path.Combine(_folder, "config.json"), """
            { "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "intermediate_size": 11008, "vocab_size": 32000,
              "num_attention_heads": 32, "num_key_value_heads": 32, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5 }
            """);

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Lora_params_on_llama_2_7b_counts_4_194_304_for_rank_8_on_q_and_v_and_39_976_960_for_rank_16_on_all_seven()
    {
        var qv = await CliProcess.RunAsync(["lora", "params", "--model", _folder, "-r", "8", "--targets", "q_proj,v_proj", "--json"]);
        var seven = await CliProcess.RunAsync(["lora", "params", "--model", _folder, "-r", "16", "--targets", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", "--json"]);

        Assert.True(qv.ExitCode == 0, qv.ToString());
        Assert.True(seven.ExitCode == 0, seven.ToString());
        Assert.Equal(4_194_304, JsonDocument.Parse(qv.Stdout).RootElement.GetProperty("lora_params").GetInt64());
        Assert.Equal(39_976_960, JsonDocument.Parse(seven.Stdout).RootElement.GetProperty("lora_params").GetInt64());
        Assert.Equal(6_738_415_616 + 4_194_304, JsonDocument.Parse(qv.Stdout).RootElement.GetProperty("total_params").GetInt64());
    }

    [Fact]
    public async Task Estimate_with_a_decoder_folder_uses_its_exact_shape()
    {
        var result = await CliProcess.RunAsync(["estimate", "--model", _folder, "-r", "8", "--targets", "q_proj,v_proj", "--dtype", "bf16", "--json"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(6_738_415_616, json.GetProperty("totalParameters").GetInt64());
        Assert.Equal(4_194_304, json.GetProperty("loraParameters").GetInt64());
        Assert.Equal((6_738_415_616 + 4_194_304) * 2, json.GetProperty("lora").GetProperty("weightsBytes").GetInt64());
    }

    [Fact]
    public async Task Estimate_with_the_base_as_a_trial_holds_it_says_the_base_in_bf16_then_nf4_then_double_quant_needs_less()
    {
        async Task<long> LoraWeights(params string[] memory)
        {
            var result = await CliProcess.RunAsync(["estimate", "--model", _folder, "-r", "8", "--targets", "q_proj,v_proj", .. memory, "--json"]);
            Assert.True(result.ExitCode == 0, result.ToString());
            return JsonDocument.Parse(result.Stdout).RootElement.GetProperty("lora").GetProperty("weightsBytes").GetInt64();
        }

        var fp32 = await LoraWeights("--base-dtype", "fp32");
        var bf16 = await LoraWeights("--base-dtype", "bf16");
        var nf4 = await LoraWeights("--quantize", "nf4");
        var doubleQuant = await LoraWeights("--quantize", "nf4", "--double-quant");

        Assert.InRange((double)bf16 / fp32, 0.49, 0.51); // 6.7 B weights at 2 bytes instead of 4 (the adapters stay fp32)
        // The linear layers (6.48 B values) at 4 bits plus one fp32 scale per 64 values, the embedding and the head (0.26 B)
        // in fp32: (6.48·0.5625 + 0.26·4) / (6.74·4) = 0.174.
        Assert.InRange((double)nf4 / fp32, 0.17, 0.18);
        Assert.True(doubleQuant < nf4, $"double quant {doubleQuant} should be below nf4 {nf4}");
    }

    [Theory]
    [InlineData("--double-quant", "", "--double-quant needs --quantize nf4")]
    [InlineData("--base-dtype", "fp8", "--base-dtype 'fp8' is not allowed; use one of fp32, bf16, fp16")]
    [InlineData("--quantize", "int4", "--quantize 'int4' is not allowed; use one of none, nf4, int8")]
    public async Task Estimate_names_a_base_option_it_cannot_take(string option, string value, string message)
    {
        var result = await CliProcess.RunAsync(["estimate", "--model", _folder, option, .. value.Length > 0 ? new[] { value } : []]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Estimate_refuses_a_seq_len_beyond_the_model_positions()
    {
        var result = await CliProcess.RunAsync(["estimate", "--model", _folder, "--seq-len", "8192"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--seq-len 8192 is beyond the 4096 positions", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Lora_params_on_a_folder_with_an_unknown_model_type_names_the_supported_ones()
    {
        File.WriteAllText(Path.Combine(_folder, "config.json"), """{ "model_type": "falcon" }""");

        var result = await CliProcess.RunAsync(["lora", "params", "--model", _folder]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("model_type 'falcon' is not a supported decoder; supported: llama, mistral, qwen2, qwen3, gpt2", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
