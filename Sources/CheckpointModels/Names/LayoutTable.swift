/// The module kinds the layout rules name.
public enum ModuleKind: String, Sendable, CaseIterable {
  /// nn.LSTM / keras LSTM (one table per cell: one layer, one direction).
  case lstm
  /// nn.GRU / keras GRU with `reset_after=True`.
  case gru
  /// One Transformer encoder layer.
  case encoderLayer = "transformer-encoder-layer"
  /// One Transformer decoder layer.
  case decoderLayer = "transformer-decoder-layer"
  /// nn.Linear / Dense.
  case linear
  /// nn.Embedding / Embedding.
  case embedding
  /// nn.LayerNorm / LayerNormalization.
  case layerNorm = "layer-norm"
  /// A standalone nn.MultiheadAttention / MultiHeadAttention (self-attention roles `self.*`).
  case attention
}

/// One table of layout rules: for a module kind in a framework's naming, how every canonical
/// parameter (PyTorch roles and orientation) becomes a named tensor.
///
/// The tables are where each naming's tensor names are written: the recognisers find modules by
/// them and the layout converter (`CheckpointConversion`) applies their steps.
///
/// Canonical roles: recurrent cells `weight_ih [G·H, I]`, `weight_hh [G·H, H]`, `bias_ih`,
/// `bias_hh` `[G·H]` (PyTorch gate order), `weight_hr`; Transformer layers
/// `self.{q,k,v,out}.{weight,bias}` (`[E, E]` out×in), `cross.*`, `linear1.*`, `linear2.*`,
/// `norm1..3.{weight,bias}`; Linear `weight [out, in]`, `bias`; Embedding `weight`; LayerNorm
/// `weight`, `bias`.
public struct LayoutTable: Sendable {
  /// The module kind.
  public var kind: ModuleKind
  /// The naming.
  public var naming: Naming
  /// Rules used both ways.
  public var rules: [ParameterRule]
  /// Alternative names only read (PyTorch's separate `q_proj_weight`, old `gamma`/`beta`).
  public var readOnlyRules: [ParameterRule]
  /// For a layer of a stack: where the stack puts its layers; `nil` where layers are named
  /// otherwise (keras_hub's by class and order).
  package var stack: StackNames?

  init(
    _ kind: ModuleKind, _ naming: Naming, _ rules: [ParameterRule], readOnly: [ParameterRule] = [],
    stack: StackNames? = nil
  ) {
    self.kind = kind
    self.naming = naming
    self.rules = rules
    self.readOnlyRules = readOnly
    self.stack = stack
  }

  /// Every built-in table.
  public static let all: [LayoutTable] = [
    .lstmPyTorch, .lstmKeras2, .lstmKeras3, .gruPyTorch, .gruKeras2, .gruKeras3,
    .encoderPyTorch, .decoderPyTorch, .encoderKeras3, .decoderKeras3, .encoderHFBert, .encoderHFBart,
    .decoderHFBart, .linearPyTorch, .linearKeras2, .linearKeras3, .embeddingPyTorch, .embeddingKeras2,
    .embeddingKeras3, .layerNormPyTorch, .layerNormKeras2, .layerNormKeras3, .attentionPyTorch,
    .attentionKeras2, .attentionKeras3,
  ]

  /// The table for `kind` in `naming`, if the framework has one.
  public static func table(_ kind: ModuleKind, _ naming: Naming) -> LayoutTable? {
    let lookup: Naming
    switch (kind, naming) {
    case (.lstm, .hfBert), (.lstm, .hfBart), (.gru, .hfBert), (.gru, .hfBart), (.linear, .hfBert),
      (.linear, .hfBart), (.embedding, .hfBert), (.embedding, .hfBart), (.layerNorm, .hfBert),
      (.layerNorm, .hfBart), (.decoderLayer, .hfBert), (.attention, .hfBert), (.attention, .hfBart):
      // Hugging Face models are PyTorch modules: plain layers keep PyTorch names; a decoder
      // layer has no BERT naming, so BART's is used.
      lookup = kind == .decoderLayer ? .hfBart : .pytorch
    default: lookup = naming
    }
    return all.first { $0.kind == kind && $0.naming == lookup }
  }

  /// The rule that writes `role`.
  package func rule(for role: String) -> ParameterRule? { rules.first { $0.roles.contains(role) } }
}

/// Where a naming puts the layers of a stack and the stack's final LayerNorm, under the stack's
/// own prefix.
package struct StackNames: Sendable {
  /// Each layer's prefix, `{i}` standing for the layer's index (`layers.{i}.`).
  package var layer: String
  /// The prefix of the LayerNorm after the stack (`norm.`), when the naming has one there.
  package var finalNorm: String?
}

/// The names as the recognisers read them.
extension LayoutTable {
  /// The name of the tensor that holds `role`, relative to the unit's prefix, `{s}` given as
  /// `suffix`, in ``ParameterSet``'s normalised form (`kernel:0` → `kernel`,
  /// `query_dense/vars/0` → `query_dense.vars.0`). A role no rule holds gives a name no tensor has.
  package func name(_ role: String, suffix: String = "") -> String {
    rule(for: role).map { ParameterSet.normalize($0.name(suffix: suffix)) } ?? "{no rule for \(role)}"
  }

  /// The names only read for `role` (`gamma` for a LayerNorm's `weight`), in the same form.
  package func readOnlyNames(_ role: String, suffix: String = "") -> [String] {
    readOnlyRules.filter { $0.roles.contains(role) }.map { ParameterSet.normalize($0.name(suffix: suffix)) }
  }

  /// Whether the tensor that holds `role` holds other roles too (PyTorch's packed `in_proj_weight`).
  package func packs(_ role: String) -> Bool { (rule(for: role)?.roles.count ?? 0) > 1 }

  /// The prefix of layer `index` of a stack (``StackNames/layer`` with `{i}` as `index`).
  package func layerPrefix(_ index: Int) -> String? { stack?.layer.replacing("{i}", with: String(index)) }
}
