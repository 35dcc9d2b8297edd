import CheckpointConversion
import CheckpointCore
import CheckpointModels

/// A Hugging Face `config.json` written from what a checkpoint proves, for a model folder whose
/// source has none: the sizes from the shapes, and the settings the weights cannot show
/// (heads, eps, activation) from the record of the layout conversion that made it, that is,
/// from the flags the user gave `ckpt convert --layout hf`. Never a default: a setting nothing
/// gives is an error naming the flag.
///
/// Only a whole BERT encoder (`BertModel`: embeddings, `encoder.layer.N`, optionally the pooler)
/// is written this way: what BART and Marian configs need beyond that (`scale_embedding`, the
/// position offset, token ids) cannot be proven from weights.
public enum HFConfig {
  /// The `config.json` text for `checkpoint`.
  ///
  /// - Throws: `CheckpointError` `.invalidArgument` naming what is missing: a setting's flag,
  ///   a tensor a `BertModel` needs, or a model other than a BERT encoder.
  public static func written(for checkpoint: Checkpoint) throws -> String {
    let recognised = ModuleRecognition(checkpoint)
    guard recognised.transformerStacks.count == 1, let stack = recognised.transformerStacks.first,
      stack.layout == .hfBert, !stack.isDecoder, stack.name == "encoder."
    else {
      throw CheckpointError(
        .invalidArgument,
        "a model folder needs a config.json; the source records none, and one can be written only for a whole BERT encoder "
          + "(BertModel names: embeddings.*, encoder.layer.N.*); convert from a model folder, or write a file "
          + "(model.safetensors)")
    }
    func shape(_ name: String) throws -> [Int] {
      guard let tensor = checkpoint[name], tensor.shape.count == 2 else {
        throw CheckpointError(
          .invalidArgument,
          "config.json cannot be written: a BertModel needs '\(name)' (a matrix), which the source lacks")
      }
      return tensor.shape
    }
    let words = try shape("embeddings.word_embeddings.weight")
    let positions = try shape("embeddings.position_embeddings.weight")
    let types = try shape("embeddings.token_type_embeddings.weight")
    for name in ["embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"] where checkpoint[name] == nil {
      throw CheckpointError(
        .invalidArgument, "config.json cannot be written: a BertModel needs '\(name)', which the source lacks"
      )
    }
    // The config says `absolute`: a relative position embedding's table would be silently wrong.
    if let relative = checkpoint.tensors.first(where: { $0.name.contains("distance_embedding") }) {
      throw CheckpointError(
        .invalidArgument,
        "config.json cannot be written: '\(relative.name)' is a relative position embedding, whose kind "
          + "the weights do not say; convert from a model folder")
    }
    let hidden = words[1]
    guard let first = stack.layers.first, let inner = checkpoint[first.inner]?.shape.first else {
      throw CheckpointError(.invalidArgument, "config.json cannot be written: the encoder has no layers")
    }
    let record = checkpoint.metadata[LayoutConverter.metadataKey].flatMap {
      try? JSONValue.parse(Array($0.utf8))
    }
    var missing: [String] = []
    let heads = record?["num_heads"]?.intValue
    if heads == nil { missing.append("--heads") }
    let activation = record?["activation"]?.stringValue.flatMap(Activation.init(rawValue:))
    if activation == nil { missing.append("--activation") }
    var eps: Double?
    switch record?["layer_norm_eps"] {
    // Recorded from a Float: its shortest decimal (1e-12, not 9.99999996e-13).
    case .double(let value)?: eps = Double(String(describing: Float(value))) ?? value
    case .integer(let value)?: eps = Double(value)
    default: missing.append("--eps")
    }
    guard missing.isEmpty, let heads, let activation, let eps else {
      throw CheckpointError(
        .invalidArgument,
        "a model folder needs a config.json; the source records none, and the weights do not show every setting it needs: pass "
          + missing.joined(separator: ", ") + " with --layout hf")
    }
    if case .bool(true)? = record?["norm_first"] {
      throw CheckpointError(
        .invalidArgument, "a BERT encoder is post-norm; --norm-first describes another model")
    }
    guard heads > 0, hidden % heads == 0 else {
      throw CheckpointError(.invalidArgument, "--heads \(heads) does not divide the hidden size \(hidden)")
    }
    let members: [(String, JSONValue)] = [
      ("architectures", .array([.string("BertModel")])),
      ("model_type", .string("bert")),
      ("vocab_size", .integer(Int64(words[0]))),
      ("hidden_size", .integer(Int64(hidden))),
      ("num_hidden_layers", .integer(Int64(stack.layers.count))),
      ("num_attention_heads", .integer(Int64(heads))),
      ("intermediate_size", .integer(Int64(inner))),
      ("hidden_act", .string(hiddenAct(activation))),
      ("layer_norm_eps", .double(eps)),
      ("max_position_embeddings", .integer(Int64(positions[0]))),
      ("type_vocab_size", .integer(Int64(types[0]))),
      ("position_embedding_type", .string("absolute")),
    ]
    return JSONValue.object(members).prettyText
  }

  /// transformers' name for `activation` (`hidden_act`).
  static func hiddenAct(_ activation: Activation) -> String {
    switch activation {
    case .relu: return "relu"
    case .gelu: return "gelu"
    case .geluTanh: return "gelu_new"
    }
  }
}
