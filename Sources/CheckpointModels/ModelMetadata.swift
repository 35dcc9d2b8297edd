import CheckpointCore

/// Transformer settings a file records in its metadata (a Keras `model_config`, an HF `config`).
///
/// Every metadata value that parses as a JSON object is searched, depth first, for the
/// first occurrence of the keys Keras, keras_hub and Hugging Face use (an HF folder's
/// `config.json` is such a value: `num_attention_heads` / `encoder_attention_heads`,
/// `hidden_act` / `activation_function`, `layer_norm_eps`, `normalize_before`).
package struct ModelMetadata {
  package var heads: Int?
  package var activation: Activation?
  package var normFirst: Bool?
  package var eps: Float?
  /// The Hugging Face `model_type` (`bert`, `bart`, `marian`, `mbart`, ...).
  package var modelType: String?
  /// What the metadata says that the engine cannot honour (an HF activation it does not
  /// implement, encoder and decoder head counts that differ): each an error unless a flag
  /// decides, never ignored.
  package var unsupported: [(setting: String, reason: String)] = []

  package init(_ metadata: [String: String]) {
    for key in metadata.keys.sorted() {
      guard let text = metadata[key], text.first(where: { !$0.isWhitespace }) == "{",
        let json = try? JSONValue.parse(Array(text.utf8))
      else {
        continue
      }
      // A Keras model config: the Transformer layers' own settings first, so that an earlier
      // layer's `activation` (a Dense's) is not taken for the feed-forward's.
      scanTransformerLayers(json)
      scan(json)
    }
  }

  /// Scans the `config` of every Keras layer whose class is a Transformer layer
  /// (`TransformerEncoder`, `TransformerDecoder`), depth first.
  private mutating func scanTransformerLayers(_ value: JSONValue) {
    if let members = value.objectValue {
      if let name = value["class_name"]?.stringValue, name.hasPrefix("Transformer"),
        let config = value["config"]
      {
        scan(config)
      }
      for (_, member) in members { scanTransformerLayers(member) }
    } else if let elements = value.arrayValue {
      for element in elements { scanTransformerLayers(element) }
    }
  }

  private mutating func scan(_ value: JSONValue) {
    if let members = value.objectValue {
      for (key, member) in members {
        switch key {
        case "num_heads", "num_attention_heads", "nhead", "encoder_attention_heads",
          "decoder_attention_heads":
          if let count = member.intValue {
            if heads == nil {
              heads = count
            } else if heads != count, key.hasSuffix("_attention_heads"), key != "num_attention_heads" {
              unsupported.append(
                (
                  "heads",
                  "the config gives \(key) \(count) but \(heads ?? 0) elsewhere; the engine runs one head count"
                ))
            }
          }
        case "activation":
          if activation == nil, let name = member.stringValue { activation = ModelMetadata.activation(name) }
        case "hidden_act", "activation_function":
          if activation == nil, let name = member.stringValue {
            activation = ModelMetadata.activation(name)
            if activation == nil {
              unsupported.append(
                (
                  "activation",
                  "the config's \(key) '\(name)' is not one the engine implements (relu, gelu, gelu_tanh)"
                ))
            }
          }
        case "layer_norm_epsilon", "layer_norm_eps":
          if eps == nil { eps = ModelMetadata.number(member) }
        case "model_type":
          if modelType == nil { modelType = member.stringValue }
        case "normalize_first", "norm_first", "normalize_before", "pre_norm":
          if normFirst == nil, case .bool(let flag) = member { normFirst = flag }
        default: scan(member)
        }
      }
    } else if let elements = value.arrayValue {
      for element in elements { scan(element) }
    }
  }

  private static func number(_ value: JSONValue) -> Float? {
    switch value {
    case .double(let d): return Float(d)
    case .integer(let i): return Float(i)
    default: return nil
    }
  }

  private static func activation(_ name: String) -> Activation? {
    switch name.lowercased() {
    case "relu": return .relu
    case "gelu", "gelu_python": return .gelu
    case "gelu_new", "gelu_pytorch_tanh", "gelu_approximate", "gelu_tanh": return .geluTanh
    default: return nil
    }
  }
}
