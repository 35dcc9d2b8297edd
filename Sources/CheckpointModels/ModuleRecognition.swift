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
    recurrent = RecurrentRecognizer(parameters: parameters).modules().map { found in
      RecurrentModule(
        kind: found.kind == .lstm ? .lstm : .gru, layout: found.layout, name: found.prefix,
        cells: found.cells.map { row in
          row.map { cell in
            RecurrentCell(
              input: file(cell.input), recurrent: file(cell.recurrent),
              inputBias: cell.inputBias.flatMap { parameters.contains($0) ? file($0) : nil },
              recurrentBias: cell.recurrentBias.flatMap { parameters.contains($0) ? file($0) : nil },
              projection: cell.projection.map(file))
          }
        }, firstIndex: found.firstIndex)
    }
    transformerStacks = TransformerRecognizer(parameters: parameters).stacks().map { stack in
      func attention(_ a: TransformerRecognizer.AttentionNames) -> AttentionNames {
        AttentionNames(
          query: file(a.query), queryBias: a.queryBias.map(file), key: file(a.key),
          keyBias: a.keyBias.map(file),
          value: file(a.value), valueBias: a.valueBias.map(file), output: file(a.output),
          outputBias: a.outputBias.map(file), packed: a.packed)
      }
      func norm(_ n: TransformerRecognizer.NormNames) -> NormNames {
        NormNames(gamma: file(n.gamma), beta: file(n.beta))
      }
      return TransformerStack(
        layout: stack.layout, name: stack.prefix,
        layers: stack.layers.map { layer in
          TransformerLayerNames(
            name: layer.prefix, selfAttention: attention(layer.selfAttention),
            crossAttention: layer.crossAttention.map(attention), inner: file(layer.inner.weight),
            innerBias: layer.inner.bias.map(file), outer: file(layer.outer.weight),
            outerBias: layer.outer.bias.map(file), norms: layer.norms.map(norm))
        }, finalNorm: stack.finalNorm.map(norm))
    }
  }
}

/// An LSTM or GRU found by name.
///
/// A PyTorch module carries all its layers and directions; a Keras layer is one layer
/// (two directions under `Bidirectional`).
public struct RecurrentModule: Sendable {
  /// The cell type.
  public enum Kind: String, Sendable {
    /// An LSTM.
    case lstm
    /// A GRU.
    case gru
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
}

/// A stack of Transformer encoder or decoder layers.
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
}

/// A LayerNorm's scale and offset.
public struct NormNames: Sendable {
  /// The scale (`weight`, `gamma`, `vars/0`).
  public var gamma: String
  /// The offset (`bias`, `beta`, `vars/1`).
  public var beta: String
}
