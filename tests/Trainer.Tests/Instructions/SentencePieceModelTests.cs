using Google.Protobuf;
using Orchestrator.Trainer.Data.Tokenizers;
using Orchestrator.Trainer.Tests.Training;

namespace Orchestrator.Trainer.Tests.Instructions;

/// <summary>
/// A folder with a SentencePiece <c>tokenizer.model</c> (Llama 1/2, Mistral) instead of tokenizer.json: a tiny BPE model
/// written here field by field (sentencepiece_model.proto: ModelProto.pieces = 1, trainer_spec = 2, normalizer_spec =
/// 3), read through Microsoft.ML.Tokenizers as a model folder is. The expected pieces follow SentencePiece's BPE by
/// hand: the text gets a dummy prefix, spaces become ▁, and the adjacent pair whose merge is the highest-scoring piece
/// merges first, until no pair forms a piece.
/// </summary>
public sealed class SentencePieceModelTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    // (piece, score, type): NORMAL 1, UNKNOWN 2, CONTROL 3.
    private static readonly (string Piece, float Score, int Type)[] Pieces =
    [
        ("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3),
        ("ll", -1, 1), ("▁h", -2, 1), ("▁he", -3, 1), ("llo", -4, 1), ("▁hell", -5, 1), ("▁hello", -6, 1), ("or", -7, 1), ("▁w", -8, 1),
        ("▁", -9, 1), ("h", -10, 1), ("e", -11, 1), ("l", -12, 1), ("o", -13, 1), ("w", -14, 1), ("r", -15, 1), ("d", -16, 1),
    ];

    private string Folder(string? tokenizerConfig = null)
    {
        var folder = _workspace.Sub("sentencepiece");
        Directory.CreateDirectory(folder);
        using (var file = File.Create(Path.Combine(folder, ModelTokenizer.SentencePieceModel)))
        using (var output = new CodedOutputStream(file))
        {
            foreach (var (piece, score, type) in Pieces)
                WriteMessage(output, 1, m =>
                {
                    m.WriteTag(1, WireFormat.WireType.LengthDelimited); m.WriteString(piece);
                    m.WriteTag(2, WireFormat.WireType.Fixed32); m.WriteFloat(score);
                    m.WriteTag(3, WireFormat.WireType.Varint); m.WriteEnum(type);
                });
            WriteMessage(output, 2, m => // trainer_spec: model_type BPE (2), unk 0, bos 1, eos 2, no pad
            {
                m.WriteTag(3, WireFormat.WireType.Varint); m.WriteEnum(2);
                m.WriteTag(4, WireFormat.WireType.Varint); m.WriteInt32(Pieces.Length);
                m.WriteTag(40, WireFormat.WireType.Varint); m.WriteInt32(0);
                m.WriteTag(41, WireFormat.WireType.Varint); m.WriteInt32(1);
                m.WriteTag(42, WireFormat.WireType.Varint); m.WriteInt32(2);
                m.WriteTag(43, WireFormat.WireType.Varint); m.WriteInt32(-1);
            });
            WriteMessage(output, 3, m => // normalizer_spec: identity, with the dummy prefix and ▁ for spaces (Llama 2's)
            {
                m.WriteTag(1, WireFormat.WireType.LengthDelimited); m.WriteString("identity");
                m.WriteTag(3, WireFormat.WireType.Varint); m.WriteBool(true);
                m.WriteTag(4, WireFormat.WireType.Varint); m.WriteBool(false);
                m.WriteTag(5, WireFormat.WireType.Varint); m.WriteBool(true);
            });
        }
        if (tokenizerConfig is not null) File.WriteAllText(Path.Combine(folder, ModelTokenizer.ConfigFile), tokenizerConfig);
        return folder;
    }

    private static void WriteMessage(CodedOutputStream output, int field, Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var inner = new CodedOutputStream(buffer, leaveOpen: true)) write(inner);
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(buffer.ToArray()));
    }

    private static int Id(string piece) => Array.FindIndex(Pieces, p => p.Piece == piece);

    [Fact]
    public void A_tokenizer_model_encodes_by_SentencePiece_BPE_with_the_BOS_Llama_adds_and_decodes_back()
    {
        var tokenizer = ModelTokenizer.Load(Folder());

        // ▁hello: ll, ▁h, ▁he, then llo (-4) before ▁hell (-5), then ▁hello. ▁world: or, ▁w; "orl" and "▁wor" are no pieces.
        Assert.Equal(new[] { "▁hello", "▁w", "or", "l", "d" }.Select(Id), tokenizer.Encode("hello world", addSpecialTokens: false));
        Assert.Equal(new[] { "<s>", "▁hello" }.Select(Id), tokenizer.Encode("hello", addSpecialTokens: true)); // add_bos_token: LlamaTokenizer's default
        Assert.Equal((1, 2), (tokenizer.BosId, tokenizer.EosId));
        Assert.Equal(Pieces.Length, tokenizer.VocabSize);
        Assert.Equal("hello world", tokenizer.Decode(tokenizer.Encode("hello world", addSpecialTokens: true), skipSpecialTokens: true));
    }

    [Fact]
    public void Tokenizer_config_json_turns_the_BOS_off_and_names_the_special_tokens()
    {
        var tokenizer = ModelTokenizer.Load(Folder("""{"add_bos_token": false, "add_eos_token": true, "eos_token": "</s>"}"""));

        Assert.Equal(new[] { "▁hello", "</s>" }.Select(Id), tokenizer.Encode("hello", addSpecialTokens: true));
        Assert.Equal("</s>", tokenizer.SpecialTokenNames["eos_token"]);
    }
}
