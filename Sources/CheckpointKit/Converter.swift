import CheckpointConversion
import CheckpointCore
import CheckpointModels
import CheckpointQuantization
import CheckpointStorage
import CheckpointVerification
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A whole conversion, as `ckpt convert` runs it: read a checkpoint, convert its layout if asked,
/// write it in another format, and verify the result if asked — saying what is lost on the way
/// (a note for every dequantized tensor, dropped metadata key, file left behind in a folder,
/// buffer a target cannot hold, flag that does nothing), and leaving no unverified output.
public enum Converter {
  /// What to convert, and how.
  public struct Request: Sendable {
    /// The checkpoint to read: a file, or a Hugging Face model folder.
    public var input: String
    /// The file (or folder, ending in `/`) to write.
    public var output: String
    /// The output format's identifier; `nil` takes it from `output`'s extension.
    public var format: String?
    /// Read `input` as this format instead of detecting it.
    public var inputFormat: String?
    /// Read only this top-level entry of a nested input.
    public var key: String?
    /// Convert the layout to this family first; `nil` copies tensor bytes unchanged.
    public var layout: Layout?
    /// With `layout`, the source's layout (`nil` detects it) and the rules and settings the
    /// layout conversion needs.
    public var fromLayout: Layout?
    /// With `layout`, how the conversion maps (heads, Hugging Face naming, user rules, settings).
    public var conversion: ConversionOptions
    /// How to write (shards, compression, progress); the provenance is filled in from the input.
    public var write: WriteOptions
    /// Check the output against the input with `ParityVerifier` and fail if they differ.
    public var verify: Bool
    /// With `verify`, keep an output that fails the check (it is removed otherwise).
    public var keepUnverified: Bool

    /// A request to convert `input` to `output`; everything else as `ckpt convert` defaults it.
    public init(
      input: String, output: String, format: String? = nil, inputFormat: String? = nil, key: String? = nil,
      layout: Layout? = nil, fromLayout: Layout? = nil, conversion: ConversionOptions = ConversionOptions(),
      write: WriteOptions = WriteOptions(), verify: Bool = false, keepUnverified: Bool = false
    ) {
      self.input = input
      self.output = output
      self.format = format
      self.inputFormat = inputFormat
      self.key = key
      self.layout = layout
      self.fromLayout = fromLayout
      self.conversion = conversion
      self.write = write
      self.verify = verify
      self.keepUnverified = keepUnverified
    }
  }

  /// What a conversion did.
  public struct Result: Sendable {
    /// The checkpoint as written (after any layout conversion and dequantization).
    public var checkpoint: Checkpoint
    /// The format of the input as read.
    public var inputFormat: String
    /// The output format's identifier (a model folder's weights: `safetensors`, or
    /// `safetensors-sharded` with a shard size).
    public var format: String
    /// The layout conversion, when there was one: the source's layout and the target's.
    public var layout: (from: Layout, to: Layout)?
    /// Every line about what was lost, left out or did nothing, in the order it happened.
    public var notes: [String]
    /// The parity report, when the output was verified (it passed).
    public var verification: ParityReport?
  }

  /// Runs `request`, calling `note` with each line of ``Result/notes`` as it happens (so a
  /// command can print it before a long write).
  ///
  /// - Throws: `CheckpointError` from reading, converting or writing (nothing is left behind
  ///   but the unchanged input), or `.checksumMismatch` when verification fails — the output is
  ///   then removed unless ``Request/keepUnverified``, and the message says which.
  public static func convert(_ request: Request, note: (String) -> Void = { _ in }) throws -> Result {
    var notes: [String] = []
    func say(_ line: String) {
      notes.append(line)
      note(line)
    }
    var checkpoint = try FormatRegistry.read(
      path: request.input, format: request.inputFormat, key: request.key)
    let inputFormat = checkpoint.format
    // What describes the source file itself (a .ckz file's provenance) is not carried on.
    checkpoint.metadata = FormatRegistry.userMetadata(of: checkpoint)
    // A model folder's weights are safetensors.
    let folder =
      request.format == nil && (request.output.hasSuffix("/") || SafetensorsFolder.isFolder(request.output))
    let target: (any CheckpointFormat.Type)? =
      try request.format.map(FormatRegistry.format(named:))
      ?? (folder ? SafetensorsFormat.self : FormatRegistry.format(forExtensionOf: request.output))
    if let target, !target.supportsBlockQuantization {
      // Formats without ggml blocks get Q8_0/Q4_0 tensors dequantized to F32.
      let (dequantized, names) = try Dequantizer.dequantizingBlocks(checkpoint)
      checkpoint = dequantized
      if !names.isEmpty {
        say(
          "\(target.identifier) files cannot store Q8_0/Q4_0 blocks; dequantized \(names.count) tensors to F32: "
            + names.joined(separator: ", "))
      }
    }
    let others = ModelFolder.otherFiles(in: request.input)
    if !others.isEmpty {
      say(
        "not carried from the folder (only its weights and config.json are): "
          + others.prefix(6).joined(separator: ", ") + (others.count > 6 ? ", ..." : ""))
    }
    let original = checkpoint
    // Tied weights: a PyTorch file shares one storage under several names; torch.save output
    // shares it again, every other format writes copies.
    if inputFormat == TorchFormat.identifier, let target, target.identifier != TorchFormat.identifier {
      let shared = try checkpoint.sharedTensors()
      if !shared.isEmpty {
        say(
          "\(shared.count) tensor group(s) share one storage in the source (tied weights: "
            + shared.prefix(3).map { $0.joined(separator: " = ") }.joined(separator: "; ")
            + (shared.count > 3 ? "; ..." : "")
            + "); \(target.identifier) files cannot share storage, so each "
            + "name is written as its own copy")
      }
    }
    var layout: (from: Layout, to: Layout)?
    if let to = request.layout {
      let from = request.fromLayout ?? LayoutConverter.detect(checkpoint).layout
      var layoutNotes: [String] = []
      checkpoint = try LayoutConverter.convert(
        checkpoint, from: from, to: to, options: request.conversion, notes: &layoutNotes)
      layoutNotes.forEach(say)
      layout = (from, to)
    }
    if let target {
      let dropped = target.droppedMetadata(checkpoint.metadata)
      if !dropped.isEmpty {
        let what = target.supportsMetadata ? "cannot store these metadata keys" : "cannot store metadata"
        say("\(target.identifier) files \(what); dropped: \(dropped.joined(separator: ", "))")
      }
    }
    if let compression = request.write.compression, compression.codec != CompressionSetting.none.codec,
      let target
    {
      let uncompressed = [
        SafetensorsFormat.identifier, ShardedSafetensorsFormat.identifier, TorchFormat.identifier,
      ]
      if folder || uncompressed.contains(target.identifier) {
        say(
          "--compress does nothing for \(folder ? "model folder" : target.identifier) output: stored uncompressed"
        )
      }
    }
    var options = request.write
    options.provenance = .source(request.input, original)
    try FormatRegistry.write(checkpoint, to: request.output, format: request.format, options: options)
    options.progress?.end()
    var verification: ParityReport?
    if request.verify {
      // The engine runs both on the same seeded inputs, module by module.
      do {
        let written = try FormatRegistry.read(path: request.output, format: request.format)
        let report = try ParityVerifier.verify(
          original, written, options: ParityOptions(engine: request.conversion.settings))
        guard report.passed else {
          throw CheckpointError(
            .checksumMismatch,
            "verification failed (first failing module: "
              + (report.firstFailure ?? report.firstOutsideFailure.map { "none; tensor \($0) differs" }
                ?? "whole model")
              + ")\n"
              + report.text, file: request.output)
        }
        verification = report
      } catch var error as CheckpointError {
        if request.keepUnverified {
          error.message += "\nkept the unverified output \(request.output) (--keep-unverified)"
        } else {
          remove(request.output)
          error.message += "\nremoved the unverified output \(request.output) (--keep-unverified keeps it)"
        }
        throw error
      }
    }
    let format =
      folder
      ? (request.write.shardSize == nil ? SafetensorsFormat.identifier : ShardedSafetensorsFormat.identifier)
      : try request.format ?? FormatRegistry.outputFormat(for: request.output)
    return Result(
      checkpoint: checkpoint, inputFormat: inputFormat, format: format, layout: layout, notes: notes,
      verification: verification)
  }

  /// Removes what a write to `path` made: a file, a sharded index and its shards, or a model folder.
  public static func remove(_ path: String) {
    let target = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    if SafetensorsFolder.isFolder(target) {
      for name in (try? SafetensorsFolder.entries(in: target)) ?? [] { unlink(target + "/" + name) }
      rmdir(target)
      return
    }
    if target.hasSuffix(".index.json"), let index = try? SafetensorsIndex(reading: target) {
      let folder = SafetensorsFolder.folder(of: target)
      for shard in index.shards { unlink(folder + "/" + shard) }
    }
    unlink(target)
  }

  /// Refuses to write over the input: a conversion must never touch it.
  public static func refuseSameFile(input: String, output: String) throws {
    let a = URL(fileURLWithPath: input).resolvingSymlinksInPath().standardizedFileURL.path
    let b = URL(fileURLWithPath: output).resolvingSymlinksInPath().standardizedFileURL.path
    if a == b {
      throw CheckpointError(.invalidArgument, "output is the input file; choose another name", file: output)
    }
  }
}
