/// How Keras names the layers that hold the tables' units: the recognisers parse these paths and
/// the layout converter writes them.
///
/// A layer is named by its class, numbered in order (`dense`, `dense_1`). Keras 3 keeps a layer's
/// variables under `layers/{layer}/`, a recurrent layer's under `cell/` (`forward_layer/cell/`,
/// `backward_layer/cell/` in a Bidirectional); Keras 2 under `{layer}/{layer}/`, a recurrent
/// layer's under `{class}_cell/` (`forward_{class}/{class}_cell/`, `backward_{class}/…`).
package enum KerasLayers {
  /// Keras 3's root group of every layer.
  package static let root = "layers"
  /// A recurrent layer's cell: Keras 3 `cell`, Keras 2 `{class}_cell`.
  package static let cell = "cell"
  /// The halves of a Bidirectional, in direction order (names start with these).
  package static let directions = ["forward", "backward"]
  /// The class of a Bidirectional wrapper.
  package static let bidirectional = "bidirectional"

  /// The class that names a layer of `kind`.
  package static func className(_ kind: ModuleKind) -> String {
    switch kind {
    case .lstm: return "lstm"
    case .gru: return "gru"
    case .encoderLayer: return "transformer_encoder"
    case .decoderLayer: return "transformer_decoder"
    case .linear: return "dense"
    case .embedding: return "embedding"
    case .layerNorm: return "layer_normalization"
    case .attention: return "multi_head_attention"
    }
  }

  /// The prefix of the variables of the layer `name`: Keras 3 `layers/{name}/`, Keras 2
  /// `{name}/{name}/`.
  package static func layerPrefix(_ name: String, _ naming: Naming) -> String {
    naming == .keras3 ? "\(root)/\(name)/" : "\(name)/\(name)/"
  }

  /// The prefix of a recurrent cell of class `className` in the layer `name`, `direction` being
  /// its half of a Bidirectional.
  package static func cellPrefix(_ name: String, className: String, direction: Int?, _ naming: Naming)
    -> String
  {
    var prefix = layerPrefix(name, naming)
    if let direction {
      prefix += directions[direction] + "_" + (naming == .keras3 ? "layer" : className) + "/"
    }
    return prefix + (naming == .keras3 ? cell : className + "_" + cell) + "/"
  }
}
