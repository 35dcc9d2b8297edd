import ArgumentParser
import CheckpointConversion
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointQuantization
import CheckpointStorage
import CheckpointVerification
import Foundation

extension Ckpt {
  /// `ckpt convert`: rewrite a checkpoint in another format, losslessly.
  struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "convert",
      abstract: "Convert a checkpoint to another format (and layout).",
      discussion: """
        The output format comes from OUTPUT's extension (.safetensors, .npz, .npy, .pt, .h5, .weights.h5, and .index.json for sharded safetensors) or from --format. An OUTPUT ending in / (or an existing empty folder) is a Hugging Face model folder: config.json (the source's: an HF folder's, or carried in a file converted from one) and model.safetensors, or shards with --shard-size; it is written under a temporary name and renamed into place. INPUT may be such a folder, or a .keras archive. Without --layout, tensor bytes are copied unchanged.

        With --layout, parameter names and arrangement are converted to another framework's layout first (pytorch, keras, keras3, hf): gate order, transposes, bias merging, packed Q/K/V and per-head kernel shapes; see Docs/layouts.md. What cannot be mapped exactly is an error.

        The output is written to a temporary file in the same folder, synced and renamed into place: a failure leaves no partial file and never touches the input.
        """
    )

    @Argument(help: "The checkpoint to read.")
    var input: String

    @Argument(help: "The file to write.")
    var output: String

    @Option(help: "The output format (default: from OUTPUT's extension).", completion: Completions.formats)
    var format: String?

    @Option(help: "Read INPUT as this format instead of detecting it.", completion: Completions.formats)
    var inputFormat: String?

    @Option(help: "Read only this top-level entry of a nested INPUT (e.g. model).")
    var key: String?

    @Option(
      help: ArgumentHelp(
        "Split safetensors output into shards of at most this size (e.g. 5GB, 500MiB); OUTPUT names the index (model.safetensors.index.json).",
        valueName: "size"))
    var shardSize: String?

    @Option(
      help: ArgumentHelp(
        "Compression for formats that support it: none, zlib or zlib:1..9.", valueName: "codec"))
    var compress: String?

    @Option(
      help: ArgumentHelp(
        "ONNX output: tensors of at least this size go to the side file OUTPUT.data (default: only when the model would pass 2 GiB, then tensors of 1 KiB and more).",
        valueName: "size"))
    var externalDataThreshold: String?

    @Option(
      help: ArgumentHelp(
        "Convert parameter names and arrangement to this framework layout: pytorch, keras, keras3, hf (hf-bert, hf-bart).",
        valueName: "layout"), completion: Completions.layouts)
    var layout: String?

    @Option(
      help: ArgumentHelp("Read INPUT as this layout instead of detecting it.", valueName: "layout"),
      completion: Completions.layouts)
    var fromLayout: String?

    @Option(help: ArgumentHelp("User layout rules (JSON, see Docs/layouts.md).", valueName: "rules.json"))
    var map: String?

    @OptionGroup(
      title: "Model settings (for Keras [E, heads, head_dim] kernels, --verify, and the conversion record)")
    var settings: ModelOptions

    @Flag(
      help:
        "Check OUTPUT against INPUT as `ckpt verify` does (the engine on both, seeded inputs); fail if they differ."
    )
    var verify = false

    @Flag(help: "With --verify, keep OUTPUT when the check fails (it is removed by default).")
    var keepUnverified = false

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
      let given = settings.settings
      let settingsGiven =
        given.heads != nil || given.activation != nil || given.normFirst != nil || given.eps != nil
      if layout == nil, fromLayout != nil || map != nil || (settingsGiven && !verify) {
        throw ValidationError("--from-layout, --map and the model settings (--heads, ...) need --layout")
      }
      if let shardSize, parseByteSize(shardSize) == nil {
        throw ValidationError("--shard-size '\(shardSize)' is not a size (try 5GB or 500MiB)")
      }
      if let externalDataThreshold, parseByteSize(externalDataThreshold) == nil {
        throw ValidationError(
          "--external-data-threshold '\(externalDataThreshold)' is not a size (try 1KiB or 100MB)")
      }
    }

    func run() throws {
      try reportingErrors(json: outputOptions.json) {
        let started = Date()
        try Convert.refuseSameFile(input: input, output: output)
        var checkpoint = try FormatRegistry.read(path: input, format: inputFormat, key: key)
        // What describes the source file itself (a .ckz file's provenance) is not carried on.
        checkpoint.metadata = FormatRegistry.userMetadata(of: checkpoint)
        if let target = try format.map(FormatRegistry.format(named:))
          ?? FormatRegistry.format(forExtensionOf: output),
          !target.supportsBlockQuantization
        {
          // Formats without ggml blocks get Q8_0/Q4_0 tensors dequantized to F32.
          let (dequantized, names) = try Dequantizer.dequantizingBlocks(checkpoint)
          checkpoint = dequantized
          // Lossy: said even with --quiet (it hides progress, not data loss).
          if !names.isEmpty {
            warn(
              "\(target.identifier) files cannot store Q8_0/Q4_0 blocks; dequantized \(names.count) tensors to F32: \(names.joined(separator: ", "))"
            )
          }
        }
        var layoutRecord: (from: String, to: String)?
        var notes: [String] = []
        var layoutNotes: [String] = []
        let others = ModelFolder.otherFiles(in: input)
        if !others.isEmpty {
          notes.append(
            "not carried from the folder (only its weights and config.json are): "
              + others.prefix(6).joined(separator: ", ") + (others.count > 6 ? ", ..." : ""))
          warn(notes[notes.count - 1])
        }
        let original = checkpoint
        if let layout {
          let (target, style) = try Convert.parseLayout(layout)
          let source = try fromLayout.map { try Convert.parseLayout($0).layout }
          var options = ConversionOptions(heads: settings.heads, hfStyle: style, settings: settings.settings)
          if let map {
            let file = try InputFile(path: map)
            options.rules = try UserRule.parse(try file.read(count: file.size, at: 0), file: map)
          }
          let from = source ?? LayoutConverter.detect(checkpoint).layout
          checkpoint = try LayoutConverter.convert(
            checkpoint, from: from, to: target, options: options, notes: &layoutNotes)
          // What is left out is said even with --quiet: it is data, not progress.
          for note in layoutNotes { warn(note) }
          notes += layoutNotes
          layoutRecord = (from.rawValue, layout)
        }
        let progress = outputOptions.progressBar()
        let options = WriteOptions(
          shardSize: shardSize.flatMap(parseByteSize),
          compression: try compress.map(CompressionSetting.init(parsing:)),
          progress: progress,
          provenance: .source(input, original),
          externalDataThreshold: externalDataThreshold.flatMap(parseByteSize))
        defer { progress?.end() }
        if !checkpoint.metadata.isEmpty,
          let target = try format.map(FormatRegistry.format(named:))
            ?? FormatRegistry.format(forExtensionOf: output),
          !target.supportsMetadata
        {
          let keys = checkpoint.metadata.keys.sorted().joined(separator: ", ")
          warn("\(target.identifier) files cannot store metadata; dropped: \(keys)")
        }
        if let compress, (try? CompressionSetting(parsing: compress))?.codec != CompressionSetting.none.codec
        {
          let identifier = (try? format ?? FormatRegistry.outputFormat(for: output)) ?? ""
          let uncompressed = [
            SafetensorsFormat.identifier, ShardedSafetensorsFormat.identifier, TorchFormat.identifier,
          ]
          if uncompressed.contains(identifier) || output.hasSuffix("/") || SafetensorsFolder.isFolder(output)
          {
            warn(
              "--compress does nothing for \(identifier.isEmpty ? "model folder" : identifier) output: stored uncompressed"
            )
          }
        }
        try FormatRegistry.write(checkpoint, to: output, format: format, options: options)
        progress?.end()
        var check: ParityReport?
        if verify {
          // `ckpt verify INPUT OUTPUT`: the engine runs both on the same seeded inputs, module by module.
          // An output that fails, or cannot be checked, is removed unless --keep-unverified.
          do {
            let written = try FormatRegistry.read(path: output, format: format)
            let report = try ParityVerifier.verify(
              original, written, options: ParityOptions(engine: settings.settings))
            guard report.passed else {
              throw CheckpointError(
                .checksumMismatch,
                "verification failed (first failing module: \(report.firstFailure ?? "whole model"))\n"
                  + report.text, file: output)
            }
            check = report
          } catch var error as CheckpointError {
            if keepUnverified {
              error.message += "\nkept the unverified output \(output) (--keep-unverified)"
            } else {
              Convert.remove(output)
              error.message += "\nremoved the unverified output \(output) (--keep-unverified keeps it)"
            }
            throw error
          }
        }
        let seconds = Date().timeIntervalSince(started)
        if outputOptions.json {
          var members: [(String, JSONValue)] = [
            ("input", .string(input)),
            ("output", .string(output)),
            ("input_format", .string(checkpoint.format)),
            ("format", .string(try format ?? FormatRegistry.outputFormat(for: output))),
            ("tensors", .integer(Int64(checkpoint.tensors.count))),
            ("bytes", .integer(Int64(checkpoint.byteCount))),
            ("seconds", .double(seconds)),
          ]
          if let layoutRecord {
            members.append(("from_layout", .string(layoutRecord.from)))
            members.append(("layout", .string(layoutRecord.to)))
          }
          if let check { members.append(("verify", check.json)) }
          if !notes.isEmpty { members.append(("notes", .array(notes.map(JSONValue.string)))) }
          emit(JSONValue.object(members).prettyText)
        } else if !outputOptions.quiet {
          emit(
            "wrote \(output): \(checkpoint.tensors.count) tensors, \(formatBytes(checkpoint.byteCount)) in \(String(format: "%.2f", seconds)) s"
              + (layoutRecord.map { " (layout \($0.from) → \($0.to))" } ?? ""))
          if let check {
            emit(
              "verified: \(check.architecture) outputs agree within \(check.tolerance.dtype) tolerance (\(check.modules.count) modules)"
            )
          }
        }
      }
    }

    /// Parses a layout name: pytorch, keras, keras3, hf, hf-bert or hf-bart.
    /// Removes what a write to `path` made: a file, a sharded index and its shards, or a model folder.
    static func remove(_ path: String) {
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

    static func parseLayout(_ name: String) throws -> (layout: CheckpointConversion.Layout, style: Naming?) {
      switch name.lowercased() {
      case "hf-bert": return (.hf, .hfBert)
      case "hf-bart": return (.hf, .hfBart)
      case "keras2": return (.keras, nil)
      default:
        guard let layout = CheckpointConversion.Layout(rawValue: name.lowercased()), layout != .unknown else {
          throw CheckpointError(
            .invalidArgument, "unknown layout '\(name)' (known: pytorch, keras, keras3, hf, hf-bert, hf-bart)"
          )
        }
        return (layout, nil)
      }
    }

    /// Refuses to write over the input: the conversion must never touch it.
    static func refuseSameFile(input: String, output: String) throws {
      let a = URL(fileURLWithPath: input).resolvingSymlinksInPath().standardizedFileURL.path
      let b = URL(fileURLWithPath: output).resolvingSymlinksInPath().standardizedFileURL.path
      if a == b {
        throw CheckpointError(.invalidArgument, "output is the input file; choose another name", file: output)
      }
    }
  }
}
