import CheckpointCore

/// Transformer settings a file records in its metadata (a Keras `model_config`, an HF `config`).
///
/// Every metadata value that parses as a JSON object is searched, depth first, for the
/// first occurrence of the keys Keras, keras_hub and Hugging Face use.
package struct ModelMetadata {
  package var heads: Int?
  package var activation: Activation?
  package var normFirst: Bool?
  package var eps: Float?

  package init(_ metadata: [String: String]) {
    for key in metadata.keys.sorted() {
      guard let text = metadata[key], text.first == "{", let json = try? JSONValue.parse(Array(text.utf8))
      else {
        continue
      }
      scan(json)
    }
  }

  private mutating func scan(_ value: JSONValue) {
    if let members = value.objectValue {
      for (key, member) in members {
        switch key {
        case "num_heads", "num_attention_heads", "nhead":
          if heads == nil { heads = member.intValue }
        case "activation", "hidden_act", "activation_function":
          if activation == nil, let name = member.stringValue { activation = ModelMetadata.activation(name) }
        case "layer_norm_epsilon", "layer_norm_eps":
          if eps == nil { eps = ModelMetadata.number(member) }
        case "normalize_first", "norm_first", "normalize_before":
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
