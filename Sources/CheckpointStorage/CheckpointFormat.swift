import CheckpointCore

/// How a format stores data compressed, as chosen by `--compress`.
public struct CompressionSetting: Sendable, Equatable, CustomStringConvertible {
  /// The codec.
  public enum Codec: String, Sendable {
    case none
    case zlib
  }

  /// The codec.
  public var codec: Codec
  /// The codec's level (zlib: 1–9).
  public var level: Int

  /// No compression.
  public static let none = CompressionSetting(codec: .none, level: 0)

  /// Creates a setting.
  public init(codec: Codec, level: Int) {
    self.codec = codec
    self.level = level
  }

  /// Parses `none`, `zlib` or `zlib:LEVEL` (level 1–9, default 6).
  public init(parsing text: String) throws {
    let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
    guard let codec = Codec(rawValue: parts.first?.lowercased() ?? "") else {
      throw CheckpointError(.invalidArgument, "unknown compression '\(text)' (use none, zlib or zlib:1..9)")
    }
    var level = codec == .zlib ? 6 : 0
    if parts.count == 2 {
      guard codec == .zlib, let value = Int(parts[1]), (1...9).contains(value) else {
        throw CheckpointError(.invalidArgument, "invalid compression level in '\(text)' (use zlib:1..9)")
      }
      level = value
    }
    self.init(codec: codec, level: level)
  }

  /// The value as messages and `ckpt inspect` print it.
  public var description: String { codec == .none ? "none" : "zlib:\(level)" }
}

/// Options for writing a checkpoint.
public struct WriteOptions: Sendable {
  /// Largest shard size in bytes for formats that shard (safetensors index); `nil` writes one file.
  public var shardSize: Int?
  /// Compression for formats that support it; `nil` uses the format's default.
  public var compression: CompressionSetting?
  /// Receives progress in bytes written.
  public var progress: (any ProgressReporter)?
  /// Where the checkpoint came from, for formats that record it (`.ckz`).
  public var provenance: Provenance?
  /// For formats that keep large tensors in a side file (ONNX external data): tensors of at
  /// least this many bytes go there. `nil` uses the format's default (ONNX: every tensor inline
  /// while the model stays under protobuf's 2 GiB limit, else tensors of 1 KiB and more outside).
  public var externalDataThreshold: Int?

  /// Creates options.
  public init(
    shardSize: Int? = nil, compression: CompressionSetting? = nil,
    progress: (any ProgressReporter)? = nil, provenance: Provenance? = nil,
    externalDataThreshold: Int? = nil
  ) {
    self.shardSize = shardSize
    self.compression = compression
    self.progress = progress
    self.provenance = provenance
    self.externalDataThreshold = externalDataThreshold
  }
}

/// Where a written checkpoint came from.
public struct Provenance: Sendable, Equatable {
  /// The source file's path (hashed by writers that record a digest).
  public var sourcePath: String?
  /// The source format identifier.
  public var sourceFormat: String?
  /// The source layout (`pytorch`, `keras`, ...).
  public var sourceLayout: String?
  /// The writing tool and its version (`ckpt 0.1.0`).
  public var tool: String

  /// Creates a provenance record.
  public init(
    sourcePath: String? = nil, sourceFormat: String? = nil, sourceLayout: String? = nil,
    tool: String
  ) {
    self.sourcePath = sourcePath
    self.sourceFormat = sourceFormat
    self.sourceLayout = sourceLayout
    self.tool = tool
  }
}

/// A checkpoint file format: detection, reading and streaming writing.
///
/// Readers return a `Checkpoint` whose tensors load lazily; writers consume
/// one tensor at a time (calling `Tensor/load()` then dropping the bytes),
/// so a conversion never holds the whole model in memory. Writers produce
/// their output through `AtomicFile`, so a failure leaves no partial file.
public protocol CheckpointFormat {
  /// The identifier used by `--format` and reported by `inspect` (`safetensors`, `npz`, ...).
  static var identifier: String { get }
  /// File name endings this format is chosen for, without the leading dot,
  /// longest first (`weights.h5` before `h5`).
  static var fileExtensions: [String] { get }
  /// Whether the first bytes of a file (up to 64) identify this format.
  static func matches(prefix: [UInt8]) -> Bool
  /// Reads the headers of the checkpoint at `path`; tensor data loads lazily.
  static func read(path: String) throws -> Checkpoint
  /// Writes `checkpoint` to `path` atomically, streaming tensor by tensor.
  static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws
  /// Whether the format stores string metadata (`ckpt convert` warns when it is dropped).
  static var supportsMetadata: Bool { get }
  /// The keys of `metadata` a file of this format cannot hold (`ckpt convert` names them):
  /// every key when it stores no metadata, none when it stores any.
  static func droppedMetadata(_ metadata: [String: String]) -> [String]
  /// Whether the format stores block-quantized tensors (Q8_0, Q4_0) as they are;
  /// `ckpt convert` dequantizes them to F32 for formats that do not.
  static var supportsBlockQuantization: Bool { get }
  /// The part of `metadata`, as read from a file of this format, that belongs to the weights
  /// and is carried into files written from them. The rest describes the file itself (a
  /// `.ckz` file's provenance, under `ckz.`) and would be false in another file.
  static func userMetadata(_ metadata: [String: String]) -> [String: String]
}

extension CheckpointFormat {
  /// Formats store metadata unless they say otherwise.
  public static var supportsMetadata: Bool { true }
  /// Everything or nothing, as ``supportsMetadata`` says.
  public static func droppedMetadata(_ metadata: [String: String]) -> [String] {
    supportsMetadata ? [] : metadata.keys.sorted()
  }
  /// Formats store only whole-element dtypes unless they say otherwise.
  public static var supportsBlockQuantization: Bool { false }
  /// All metadata a format reads belongs to the weights unless it says otherwise.
  public static func userMetadata(_ metadata: [String: String]) -> [String: String] { metadata }
}
