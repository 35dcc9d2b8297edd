import CheckpointCore

/// The modules recognised in a checkpoint, described by their tensors' file names.
///
/// The engine's `Model` builds from the same recognisers, and the layout converter reads through
/// this view, so every tool works from one description of what a checkpoint holds:
///
/// ```swift
/// let found = ModuleRecognition(checkpoint)
/// for module in found.recurrent { print(module.kind, module.name, module.cells.count) }
/// ```
///
/// Every name here is a tensor name exactly as it appears in `checkpoint`.
public struct ModuleRecognition: Sendable {
  /// LSTM and GRU modules: one per PyTorch module, one per Keras layer (Keras stacks are
  /// separate layers; see ``RecurrentModule``), in file (PyTorch) or Keras layer order.
  public var recurrent: [RecurrentModule]
  /// Transformer encoder and decoder layer stacks.
  public var transformerStacks: [TransformerStack]
  /// Transformer settings the file's metadata records (a Keras `model_config`, an HF `config`):
  /// `nil` where it says nothing.
  public var settings: ModelSettings

  /// Recognises the modules of `checkpoint`.
  public init(_ checkpoint: Checkpoint) {
    let parameters = ParameterSet(checkpoint)
    let file = parameters.fileName
    let metadata = ModelMetadata(checkpoint.metadata)
    settings = ModelSettings(
      heads: metadata.heads, activation: metadata.activation, normFirst: metadata.normFirst, eps: metadata.eps
    )
    recurrent = RecurrentRecognizer(parameters: parameters).modules().map { $0.renamed(file) }
    transformerStacks = TransformerRecognizer(parameters: parameters).stacks().map { $0.renamed(file) }
  }
}

/// An LSTM or GRU found by name.
///
/// A PyTorch module carries all its layers and directions; a Keras layer is one layer
/// (two directions under `Bidirectional`). `RecurrentRecognizer` finds it under normalised
/// tensor names; ``ModuleRecognition`` gives it under the file's.
public struct RecurrentModule: Sendable {
  /// The cell type.
  public enum Kind: String, Sendable {
    /// An LSTM.
    case lstm
    /// A GRU.
    case gru

    /// The name in messages: `LSTM`, `GRU`.
    package var title: String { rawValue.uppercased() }
  }
  /// The cell type.
  public var kind: Kind
  /// The naming it was found in.
  public var layout: Naming
  /// The module's name: the PyTorch prefix (`encoder.lstm.`, `` for a bare module) or the
  /// Keras layer path in normalised form (`bidirectional`, `functional.layers.lstm`).
  public var name: String
  /// `cells[layer][direction]` (direction 1 is PyTorch `_reverse` / Keras `backward_layer`).
  public var cells: [[RecurrentCell]]
  /// The index of the module's first tensor in the file.
  public var firstIndex: Int

  /// The module with every tensor name mapped by `rename` (its ``name`` kept).
  package func renamed(_ rename: (String) -> String) -> Self {
    var copy = self
    copy.cells = cells.map { row in row.map { $0.renamed(rename) } }
    return copy
  }
}

/// The tensors of one recurrent cell (one layer, one direction).
///
/// PyTorch: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, `weight_hr`. Keras: `kernel`
/// (input), `recurrent_kernel` (recurrent), `bias` (inputBias; recurrentBias is nil).
public struct RecurrentCell: Sendable {
  /// `weight_ih` / `kernel`.
  public var input: String
  /// `weight_hh` / `recurrent_kernel`.
  public var recurrent: String
  /// `bias_ih` / Keras `bias` (absent: no bias).
  public var inputBias: String?
  /// `bias_hh` (PyTorch only).
  public var recurrentBias: String?
  /// `weight_hr` (LSTM `proj_size`).
  public var projection: String?

  /// The cell with every tensor name mapped by `rename`.
  package func renamed(_ rename: (String) -> String) -> Self {
    RecurrentCell(
      input: rename(input), recurrent: rename(recurrent), inputBias: inputBias.map(rename),
      recurrentBias: recurrentBias.map(rename), projection: projection.map(rename))
  }

  /// Every tensor name of the cell.
  package var tensors: [String] {
    [input, recurrent, inputBias, recurrentBias, projection].compactMap { $0 }
  }
}

/// A stack of Transformer encoder or decoder layers.
///
/// `TransformerRecognizer` finds it under normalised tensor names; ``ModuleRecognition`` gives
/// it under the file's.
public struct TransformerStack: Sendable {
  /// The naming it was found in.
  public var layout: Naming
  /// The stack's name prefix (`encoder.`, `decoder.`; empty for keras_hub).
  public var name: String
  /// The layers in order.
  public var layers: [TransformerLayerNames]
  /// A final LayerNorm after the stack (PyTorch `norm`, BART `layer_norm`).
  public var finalNorm: NormNames?
  /// Whether the layers have cross-attention.
  public var isDecoder: Bool { layers.first?.crossAttention != nil }

  /// The stack with every tensor name mapped by `rename` (its ``name`` kept).
  package func renamed(_ rename: (String) -> String) -> Self {
    TransformerStack(
      layout: layout, name: name, layers: layers.map { $0.renamed(rename) },
      finalNorm: finalNorm?.renamed(rename))
  }
}

/// The tensors of one Transformer layer, in PyTorch's roles.
public struct TransformerLayerNames: Sendable {
  /// The layer's name prefix (`encoder.layers.0.`, `layers.transformer_encoder.` normalised).
  public var name: String
  /// The self-attention block.
  public var selfAttention: AttentionNames
  /// The cross-attention block (decoders).
  public var crossAttention: AttentionNames?
  /// `linear1` / `intermediate.dense` / `fc1` / `_feedforward_intermediate_dense`.
  public var inner: String
  /// The inner projection's bias.
  public var innerBias: String?
  /// `linear2` / `output.dense` / `fc2` / `_feedforward_output_dense`.
  public var outer: String
  /// The outer projection's bias.
  public var outerBias: String?
  /// norm1, norm2 (and norm3 for decoders), in PyTorch's roles.
  public var norms: [NormNames]

  /// The layer with every tensor name mapped by `rename` (its ``name`` kept).
  package func renamed(_ rename: (String) -> String) -> Self {
    TransformerLayerNames(
      name: name, selfAttention: selfAttention.renamed(rename),
      crossAttention: crossAttention?.renamed(rename),
      inner: rename(inner), innerBias: innerBias.map(rename), outer: rename(outer),
      outerBias: outerBias.map(rename), norms: norms.map { $0.renamed(rename) })
  }
}

/// The tensors of one attention block.
public struct AttentionNames: Sendable {
  /// Query projection weight (the packed `in_proj_weight` when ``packed``).
  public var query: String
  /// Query bias.
  public var queryBias: String?
  /// Key projection weight.
  public var key: String
  /// Key bias.
  public var keyBias: String?
  /// Value projection weight.
  public var value: String
  /// Value bias.
  public var valueBias: String?
  /// Output projection weight.
  public var output: String
  /// Output projection bias.
  public var outputBias: String?
  /// PyTorch's packed `in_proj_weight`/`in_proj_bias`: query, key and value name the same tensors.
  public var packed: Bool

  /// The block with every tensor name mapped by `rename`.
  package func renamed(_ rename: (String) -> String) -> Self {
    AttentionNames(
      query: rename(query), queryBias: queryBias.map(rename), key: rename(key), keyBias: keyBias.map(rename),
      value: rename(value), valueBias: valueBias.map(rename), output: rename(output),
      outputBias: outputBias.map(rename), packed: packed)
  }
}

/// A LayerNorm's scale and offset.
public struct NormNames: Sendable {
  /// The scale (`weight`, `gamma`, `vars/0`).
  public var gamma: String
  /// The offset (`bias`, `beta`, `vars/1`).
  public var beta: String

  /// The norm with both names mapped by `rename`.
  package func renamed(_ rename: (String) -> String) -> Self {
    NormNames(gamma: rename(gamma), beta: rename(beta))
  }
}
