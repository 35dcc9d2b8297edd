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

    @Option(help: "The output format (default: from OUTPUT's extension).")
    var format: FormatArgument?

    @Option(help: "Read INPUT as this format instead of detecting it.")
    var inputFormat: FormatArgument?

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
        "Convert parameter names and arrangement to this framework layout (hf-bert and hf-bart pick hf's naming).",
        valueName: "layout"))
    var layout: LayoutArgument?

    @Option(
      help: ArgumentHelp("Read INPUT as this layout instead of detecting it.", valueName: "layout"))
    var fromLayout: LayoutArgument?

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
      if let compress { _ = try validating { try CompressionSetting(parsing: compress) } }
      try validating { try Converter.refuseSameFile(input: input, output: output) }
    }

    func run() throws {
      try reportingErrors(json: outputOptions.json) {
        let started = Date()
        var conversion = ConversionOptions(
          heads: settings.heads, hfStyle: layout?.naming, settings: settings.settings)
        if let map {
          let file = try InputFile(path: map)
          conversion.rules = try UserRule.parse(try file.read(count: file.size, at: 0), file: map)
        }
        let progress = outputOptions.progressBar()
        defer { progress?.end() }
        let request = Converter.Request(
          input: input, output: output, format: format?.name, inputFormat: inputFormat?.name, key: key,
          layout: layout?.layout, fromLayout: fromLayout?.layout, conversion: conversion,
          write: WriteOptions(
            shardSize: shardSize.flatMap(parseByteSize),
            compression: try compress.map(CompressionSetting.init(parsing:)), progress: progress,
            externalDataThreshold: externalDataThreshold.flatMap(parseByteSize)),
          verify: verify, keepUnverified: keepUnverified)
        // What is lost or left out is said even with --quiet: it is data, not progress.
        let result = try Converter.convert(request, note: warn)
        // The layout as the user spelled it (hf-bert stays hf-bert).
        let layoutRecord = result.layout.map { ($0.from.rawValue, layout?.argument ?? $0.to.rawValue) }
        let seconds = Date().timeIntervalSince(started)
        let checkpoint = result.checkpoint
        if outputOptions.json {
          var members: [(String, JSONValue)] = [
            ("input", .string(input)),
            ("output", .string(output)),
            ("input_format", .string(result.inputFormat)),
            ("format", .string(result.format)),
            ("tensors", .integer(Int64(checkpoint.tensors.count))),
            ("bytes", .integer(Int64(checkpoint.byteCount))),
            ("seconds", .double(seconds)),
          ]
          if let layoutRecord {
            members.append(("from_layout", .string(layoutRecord.0)))
            members.append(("layout", .string(layoutRecord.1)))
          }
          if let check = result.verification { members.append(("verify", check.json)) }
          if !result.notes.isEmpty { members.append(("notes", .array(result.notes.map(JSONValue.string)))) }
          emit(JSONValue.object(members).prettyText)
        } else if !outputOptions.quiet {
          emit(
            "wrote \(output): \(checkpoint.tensors.count) tensors, \(formatBytes(checkpoint.byteCount)) in \(String(format: "%.2f", seconds)) s"
              + (layoutRecord.map { " (layout \($0.0) → \($0.1))" } ?? ""))
          if let check = result.verification {
            emit(
              "verified: \(check.architecture) outputs agree within \(check.tolerance.dtype) tolerance (\(check.modules.count) modules)"
            )
          }
        }
      }
    }
  }
}
