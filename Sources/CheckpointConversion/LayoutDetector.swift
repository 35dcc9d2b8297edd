import CheckpointCore
import CheckpointModels

/// A framework's naming and arrangement of parameters.
public enum Layout: String, CaseIterable, Sendable {
  /// PyTorch `state_dict` naming (`weight_ih_l0`, `in_proj_weight`, `linear1.weight`).
  case pytorch
  /// tf.keras 2 HDF5 naming (`lstm/lstm_cell/kernel:0`).
  case keras
  /// Keras 3 `.weights.h5` naming (`layers/lstm/cell/vars/0`).
  case keras3
  /// Hugging Face naming (BERT `attention.self.query`, BART `self_attn.q_proj`).
  case hf
  /// Nothing recognisable.
  case unknown
}

/// The layout a checkpoint's tensor names point to, and why.
public struct LayoutDetection: Sendable, Equatable {
  /// The detected layout (`unknown` when nothing matched).
  public var layout: Layout
  /// Tensor names (at most a few) that decided it, with the rule they matched.
  public var evidence: [String]
}

/// Detects a checkpoint's layout from tensor names.
///
/// Rules are tried most specific first: Keras 3's `layers/…/vars/N`, Keras 2's
/// `:0` suffixes, Hugging Face module names, PyTorch module names, then
/// PyTorch's generic `.weight`/`.bias` suffixes.
extension Layout {
  /// The family of a naming: Keras 2 is `keras`, both Hugging Face namings are `hf`.
  public init(_ naming: Naming) {
    switch naming {
    case .pytorch: self = .pytorch
    case .keras2: self = .keras
    case .keras3: self = .keras3
    case .hfBert, .hfBart: self = .hf
    }
  }
}

/// Finds the layout a checkpoint's tensor names follow, with the evidence (``LayoutDetection``).
public enum LayoutDetector {
  struct Rule {
    let layout: Layout
    let what: String
    let test: (String) -> Bool
  }

  static let rules: [Rule] = [
    Rule(layout: .keras3, what: "Keras 3 variable path layers/…/vars/N") { name in
      let parts = name.split(separator: "/")
      return parts.count >= 3 && parts.first == "layers" && parts[parts.count - 2] == "vars"
        && Int(parts[parts.count - 1]) != nil
    },
    Rule(layout: .keras, what: "Keras 2 weight name with ':0' suffix") { name in
      name.hasSuffix(":0") && name.contains("/")
    },
    Rule(layout: .hf, what: "Hugging Face module name") { name in
      [
        "attention.self.query", "attention.self.key", "attention.output.dense", "intermediate.dense",
        "self_attn.q_proj", "self_attn.k_proj", "encoder_attn.", "embeddings.word_embeddings",
        "self_attn_layer_norm", "final_layer_norm",
      ].contains { name.contains($0) }
    },
    Rule(layout: .pytorch, what: "PyTorch module parameter name") { name in
      [
        "weight_ih_l", "weight_hh_l", "bias_ih_l", "in_proj_weight", "in_proj_bias",
        "self_attn.out_proj", "multihead_attn.", "linear1.", "linear2.",
      ].contains { name.contains($0) }
    },
    Rule(layout: .pytorch, what: "PyTorch '.weight'/'.bias' suffix") { name in
      name.hasSuffix(".weight") || name.hasSuffix(".bias")
    },
  ]

  /// Detects the layout of `names`.
  public static func detect<S: Sequence>(names: S) -> LayoutDetection where S.Element == String {
    let names = Array(names)
    for rule in rules {
      let matched = names.filter(rule.test)
      if !matched.isEmpty {
        let shown = matched.prefix(3).map { "\($0) (\(rule.what))" }
        return LayoutDetection(layout: rule.layout, evidence: Array(shown))
      }
    }
    return LayoutDetection(layout: .unknown, evidence: [])
  }
}
