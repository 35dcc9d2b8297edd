import CheckpointCore
import CheckpointEngine
import CheckpointModels

/// What ``ParityVerifier/verify(_:_:options:)`` runs and how strictly it compares.
public struct ParityOptions: Sendable {
  /// The architecture; `nil` recognises it from checkpoint A (see ``ParityVerifier``).
  public var architecture: Architecture?
  /// The inputs (named as `Architecture/inputs`); `nil` makes seeded ones (``SeededInputs``).
  public var inputs: Checkpoint?
  /// The relative tolerance; `nil` takes the dtype default (``Tolerance``).
  public var rtol: Double?
  /// The absolute tolerance; `nil` takes the dtype default.
  public var atol: Double?
  /// Engine settings for checkpoint A (heads, activation, norm placement, eps). A head count
  /// the file records (metadata, Keras kernel shapes) wins over `heads`; the others override the file.
  public var engineA: ModelSettings
  /// Engine settings for checkpoint B, likewise.
  public var engineB: ModelSettings
  /// The seed of the generated inputs.
  public var seed: UInt64
  /// The batch size of the generated inputs.
  public var batch: Int
  /// The sequence length of the generated inputs.
  public var length: Int
  /// Whether B takes A's Transformer activation, norm placement and eps where B's file records
  /// none of its own and no option sets it (a Keras 3 weights file records none): a layout
  /// that cannot store a setting does not make a conversion wrong. Heads are never inherited.
  public var inheritSettings: Bool

  /// Creates options; `engine` applies to both sides unless `engineB` is given.
  public init(
    architecture: Architecture? = nil, inputs: Checkpoint? = nil, rtol: Double? = nil, atol: Double? = nil,
    engine: ModelSettings = ModelSettings(), engineB: ModelSettings? = nil, seed: UInt64 = 0, batch: Int = 2,
    length: Int = 8, inheritSettings: Bool = true
  ) {
    self.architecture = architecture
    self.inputs = inputs
    self.rtol = rtol
    self.atol = atol
    self.engineA = engine
    self.engineB = engineB ?? engine
    self.seed = seed
    self.batch = batch
    self.length = length
    self.inheritSettings = inheritSettings
  }
}
