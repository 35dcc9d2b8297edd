import CheckpointCore

/// What a checkpoint computes, as the recognition layer understands it: a small graph of the
/// modules the engine knows, joined by named arrays.
///
/// Every builder makes one (today the canned builders of ``Architecture``, from names and
/// shapes, the file's metadata and the flags: ``ModelGraph/build(_:from:settings:)``), and every
/// consumer reads one: the engine's `Model` compiles and runs its nodes in order, `ckpt verify`
/// traces at its nodes' boundaries. Each node names its parameters (tensor names as stored in
/// the file) and its settings, each with where it came from.
///
/// The seq2seq LSTM of the tutorials, for example:
///
/// ```text
/// src ─ encoder.embedding ─ encoder.lstm ─┬─ h_n, c_n ─┐
/// tgt ─ decoder.embedding ────────────────┴────────────┴─ decoder.lstm ─ projection ─ logits
/// ```
public struct ModelGraph: Sendable {
  /// The builder that made the graph (the `--arch` name).
  public var architecture: Architecture
  /// The naming the parameters were recognised in.
  public var naming: Naming
  /// The arrays the graph takes, in order.
  public var inputs: [Port]
  /// The arrays the graph gives: each output's name and the value that holds it.
  public var outputs: [(name: String, value: String)]
  /// The nodes, in execution order: a node reads only graph inputs and earlier nodes' outputs.
  public var nodes: [Node]
  /// What the builder saw fit to say: flags that contradict the file's own config (the flag
  /// wins, and `ckpt` prints a warning, or fails with `--strict`).
  public var notes: [String] = []

  /// An input of the graph.
  public struct Port: Sendable, Equatable {
    /// The array's name (`x`, `src`, `mask`).
    public var name: String
    /// Whether the graph runs without it.
    public var required: Bool

    /// Creates a port.
    public init(name: String, required: Bool) {
      self.name = name
      self.required = required
    }
  }

  /// What a node computes.
  public enum Operation: String, Sendable, CaseIterable {
    /// A token-id lookup table (`nn.Embedding`, Keras `Embedding`): tokens `[B, T]` → `[B, T, E]`.
    case embedding
    /// A (multi-layer, bidirectional, projected) LSTM: `x` (and `h0`, `c0`) → `y`, `h_n`, `c_n`.
    case lstm
    /// A (multi-layer, bidirectional) GRU: `x` → `y`, `h_n`.
    case gru
    /// A dense layer `y = x·Wᵀ + b`.
    case dense
    /// A LayerNorm over the last axis.
    case layerNorm = "layer-norm"
    /// A Transformer encoder layer (self-attention, feed-forward, two norms): `x` (and a key
    /// padding `mask`) → `y`.
    case transformerEncoderLayer = "transformer-encoder-layer"
    /// A Transformer decoder layer (causal self-attention, cross-attention, feed-forward, three
    /// norms): `x`, `memory` → `y`.
    case transformerDecoderLayer = "transformer-decoder-layer"
  }

  /// Where a setting that changes the numbers came from.
  public enum Source: String, Sendable {
    /// A command-line flag or an option given to the library.
    case flag
    /// The file's own configuration or metadata (a Keras `model_config`, an HF `config.json`).
    case fileConfig = "file config"
    /// What the parameters' shapes prove (the heads of a Keras `[E, heads, d]` kernel).
    case shapes
    /// What the naming's architecture fixes, whatever the model's config (Hugging Face BERT
    /// layers are post-norm). Nothing is a default: a setting no source determines is an error.
    case naming
  }

  /// A setting of a node and its source.
  public struct Setting: Sendable, Equatable {
    /// `heads`, `activation`, `norm_first`, `eps`, `reset_after`.
    public var name: String
    /// The value as text (`12`, `gelu`, `true`, `1e-12`).
    public var value: String
    /// Where it came from.
    public var source: Source

    /// Creates a setting.
    public init(name: String, value: String, source: Source) {
      self.name = name
      self.value = value
      self.source = source
    }
  }

  /// A module of the graph.
  public struct Node: Sendable {
    /// The canonical module name (`lstm`, `encoder.layers.0`, `decoder.lstm`, `projection`); its
    /// sub-modules are named under it (`lstm.l0`, `encoder.layers.0.self_attn`).
    public var name: String
    /// What it computes.
    public var operation: Operation
    /// The values it reads: graph inputs by name, other nodes' outputs as `node:output`.
    public var inputs: [String]
    /// The values it gives, as `node:output`.
    public var outputs: [String]
    /// Its parameters: each role (PyTorch's, as in the layout rules: `l0.weight_ih`,
    /// `self_attn.q.weight`) and the tensor's name as stored in the file.
    public var parameters: [(role: String, tensor: String)]
    /// The settings that names and shapes alone do not fix, with their sources.
    public var settings: [Setting]

    /// The recogniser's names for the engine (normalised tensor names), one of them set.
    package var recurrent: RecurrentModule?
    package var transformerLayer: TransformerLayerNames?
    package var norm: NormNames?
    package var table: String?
    package var dense: (weight: String, bias: String?)?

    /// The value of setting `name`, if the node has it.
    public func setting(_ name: String) -> Setting? { settings.first { $0.name == name } }
  }

  /// The node named `name`.
  public func node(_ name: String) -> Node? { nodes.first { $0.name == name } }

  /// The graph as lines of text, a node a line: `name  operation  inputs → outputs  settings`.
  public var lines: [String] {
    nodes.map { node in
      let settings = node.settings.map { "\($0.name) \($0.value) (\($0.source.rawValue))" }
      return "\(node.name)  \(node.operation.rawValue)  \(node.inputs.joined(separator: ", ")) → "
        + node.outputs.joined(separator: ", ")
        + (settings.isEmpty ? "" : "  " + settings.joined(separator: ", "))
    }
  }

  /// The graph for `--json`: `architecture`, `naming`, `inputs`, `outputs`, and `nodes` with
  /// `name`, `operation`, `inputs`, `outputs`, `parameters` (`role`, `tensor`) and `settings`
  /// (`name`, `value`, `source`).
  public var jsonValue: JSONValue {
    .object([
      ("architecture", .string(architecture.rawValue)), ("naming", .string(naming.rawValue)),
      (
        "inputs",
        .array(inputs.map { .object([("name", .string($0.name)), ("required", .bool($0.required))]) })
      ),
      (
        "outputs",
        .array(outputs.map { .object([("name", .string($0.name)), ("value", .string($0.value))]) })
      ),
      (
        "nodes",
        .array(
          nodes.map { node in
            .object([
              ("name", .string(node.name)), ("operation", .string(node.operation.rawValue)),
              ("inputs", .array(node.inputs.map(JSONValue.string))),
              ("outputs", .array(node.outputs.map(JSONValue.string))),
              (
                "parameters",
                .array(
                  node.parameters.map {
                    .object([("role", .string($0.role)), ("tensor", .string($0.tensor))])
                  })
              ),
              (
                "settings",
                .array(
                  node.settings.map {
                    .object([
                      ("name", .string($0.name)), ("value", .string($0.value)),
                      ("source", .string($0.source.rawValue)),
                    ])
                  })
              ),
            ])
          })
      ),
    ])
  }
}
